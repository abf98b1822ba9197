/**
 * AMQP transactions on one channel (AMQP 0-9-1 class tx, as RabbitMQ's channel does them):
 * after tx.select, basic.publish is held here and basic.ack, basic.nack and basic.reject by the
 * core session (which takes the deliveries at once, so an unknown tag fails at the ack);
 * tx.commit applies the publishes in order, then the settlements in order (RabbitMQ's order);
 * tx.rollback drops them (the deliveries they named are unacknowledged again). tx.commit-ok
 * goes out only once every message the commit published is durable: each is published with
 * an internal confirm token, so the core's confirm path (every durability point of the
 * publish) decides, and the commit answers when the last one is in. A publish a queue refused (x-overflow reject-publish) fails the commit
 * with 406 "partial tx completion", as RabbitMQ's channel does.
 * The checks of basic.publish (exchange, permissions, user-id, CC/BCC) are made when the
 * publish arrives, as RabbitMQ makes them, and again when the commit applies it.
 */
import type { Message } from '../../src/core/index.js';
import type { AmqpChannel } from './channel.js';
import { M } from './codec/methods.js';
import { preconditionFailed } from './errors.js';

interface HeldPublish {
  message: Message;
  mandatory: boolean;
}

/** A commit whose publishes are not all confirmed yet. */
interface InFlight {
  /** confirms still to come; the commit's own apply counts as one until it finishes */
  waiting: number;
  refused: boolean;
}

export class AmqpTransaction {
  #held: HeldPublish[] = [];
  /** commits waiting for their confirms, by commit number (the token their publishes carry) */
  readonly #inFlight = new Map<number, InFlight>();
  #commits = 0;

  /** Checked now (RabbitMQ checks at basic.publish), routed at commit. */
  publish(ch: AmqpChannel, message: Message, mandatory: boolean): void {
    ch.session.checkPublish(message);
    this.#held.push({ message, mandatory });
  }

  rollback(ch: AmqpChannel): void {
    this.#held = [];
    ch.session.rollbackSettlements();
  }

  /**
   * tx.commit: apply what was held, in order, then answer commit-ok once every publish of it
   * is confirmed (at once when none waits). A failure of one step throws, as the method would.
   */
  commit(ch: AmqpChannel): void {
    const held = this.#held;
    this.#held = [];
    const token = ++this.#commits;
    const flight: InFlight = { waiting: 1, refused: false };
    this.#inFlight.set(token, flight);
    try {
      for (const h of held) {
        flight.waiting++;
        ch.session.publish(h.message, h.mandatory, token);
      }
      ch.session.commitSettlements();
    } catch (e) {
      this.#inFlight.delete(token);
      throw e;
    }
    this.confirmed(ch, token, true);
  }

  /** A confirm for a publish of commit `token` (the channel routes them here in tx mode). */
  confirmed(ch: AmqpChannel, token: number, ack: boolean): void {
    const flight = this.#inFlight.get(token);
    if (!flight) return;
    if (!ack) flight.refused = true;
    if (--flight.waiting > 0) return;
    this.#inFlight.delete(token);
    if (flight.refused) ch.fail(preconditionFailed('partial tx completion'), M.txCommit);
    else ch.send({ id: M.txCommitOk });
  }
}
