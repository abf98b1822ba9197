/**
 * PUBACK / PUBREC for inbound QoS 1 and 2 publishes: sent when the core confirms the publish,
 * which for a stored message means every durability point of it is on disk (the journal
 * record, stream appends). A retained publish also waits for the retained store's own write to
 * be durable (retained.ts), so a PUBACK never vouches for a retained message a power cut could
 * lose. A failure — a queue refusing the message, or a write or fdatasync that failed — is a
 * negative ack in MQTT 5 and the end of the connection in 3.1.1, which cannot say no.
 */
import { DurabilityPoints, whenAllDurable, type DurableListener } from '../../src/core/index.js';
import type { MqttConnection } from './connection.js';
import { RC } from './errors.js';

/** Confirm tokens: the packet identifier, plus this bit for QoS 2 (PUBREC instead of PUBACK). */
export const QOS2_TOKEN = 0x10000;

export class PublishAcks {
  /** confirm token of the publish being made, so `returned` can name it */
  publishingToken = -1;
  /** where a retained publish's write to the retained store notes its durability point (reused; made on first use) */
  #retainedPoints: DurabilityPoints | null = null;
  readonly #c: MqttConnection;
  /** confirm tokens of QoS ≥ 1 publishes that reached no queue (MQTT 5 PUBACK 0x10); made on first use */
  #unrouted: Set<number> | null = null;
  /** retained QoS ≥ 1 publishes whose ack also waits for the retained store; made on first use */
  #retained: Map<number, RetainedAck> | null = null;

  constructor(c: MqttConnection) {
    this.#c = c;
  }

  get retainedPoints(): DurabilityPoints {
    return (this.#retainedPoints ??= new DurabilityPoints());
  }

  /** The core returned the publish being made: nothing matched it. */
  noteUnrouted(): void {
    (this.#unrouted ??= new Set()).add(this.publishingToken);
  }

  /** Before publishing a retained QoS ≥ 1 message: its ack waits for `retainedWritten` too. */
  awaitRetained(token: number): void {
    (this.#retained ??= new Map()).set(token, new RetainedAck(this, token));
  }

  /** The publish failed before the core took it: no ack is waited for any more. */
  forget(token: number): void {
    this.#retained?.delete(token);
  }

  /** The retained store took the message: `retainedPoints` holds the durability points of its write. */
  retainedWritten(token: number): void {
    const joint = this.#retained?.get(token);
    if (joint) whenAllDurable(this.retainedPoints, joint, token);
  }

  /** PUBREC for a resent QoS 2 PUBLISH: once the first copy's durability points are durable. */
  pubrecWhenDurable(id: number, firstCopy: DurabilityPoints): void {
    // a rare path (a resend after a reconnect): a listener object per call is fine
    whenAllDurable(firstCopy, { onDurable: (_t, error) => this.send(id | QOS2_TOKEN, error === null, error) }, 0);
  }

  /** The core's confirm of a QoS ≥ 1 publish (`error`: the store could not make it durable). */
  confirmed(token: number, ack: boolean, error: Error | null): void {
    const joint = this.#retained !== null && this.#retained.size > 0 ? this.#retained.get(token) : undefined;
    if (joint) joint.coreConfirmed(ack, error);
    else this.send(token, ack, error);
  }

  /** The client's ack: PUBACK or PUBREC with the verdict. */
  send(token: number, ack: boolean, error: Error | null): void {
    const c = this.#c;
    this.#retained?.delete(token);
    if (!c.open) return;
    const qos2 = token >= QOS2_TOKEN;
    const id = token & 0xffff;
    const unrouted = this.#unrouted?.delete(token) ?? false;
    if (!ack && c.version !== 5) {
      // 3.1.1 cannot refuse a publish: close, so the client knows it was not taken (RabbitMQ's behaviour)
      if (error) c.protocolError(RC.UNSPECIFIED_ERROR, `publish not stored: ${error.message}`);
      else c.protocolError(RC.QUOTA_EXCEEDED, 'publish refused by a queue');
      return;
    }
    // refused by a queue (x-overflow reject-publish): 0x97 Quota exceeded; not made durable: 0x80
    const reasonCode = ack ? (unrouted ? RC.NO_MATCHING_SUBSCRIBERS : RC.SUCCESS) : error ? RC.UNSPECIFIED_ERROR : RC.QUOTA_EXCEEDED;
    if (qos2) {
      const state = c.sessionState!;
      if (reasonCode >= 0x80) state.pendingInboundQos2.delete(id);
      else if (state.recorder !== null) {
        // in the queues now: a persistent session keeps the flow across a restart
        state.acceptedInboundQos2.add(id);
        state.changed();
      }
    }
    c.send({ cmd: qos2 ? 'pubrec' : 'puback', messageId: id, reasonCode });
  }
}

/** One retained QoS ≥ 1 publish: acked once the core confirmed it and the retained write is durable; a failure of either answers at once. */
class RetainedAck implements DurableListener {
  #core: 'pending' | 'ack' | 'done' = 'pending';
  #retainedDurable = false;
  constructor(
    readonly acks: PublishAcks,
    readonly token: number,
  ) {}

  coreConfirmed(ack: boolean, error: Error | null): void {
    if (this.#core !== 'pending') return;
    if (!ack) return this.#answer(false, error);
    this.#core = 'ack';
    if (this.#retainedDurable) this.#answer(true, null);
  }

  /** the retained store's write is durable, or failed */
  onDurable(_token: number, error: Error | null): void {
    if (this.#core === 'done') return;
    if (error) return this.#answer(false, error);
    this.#retainedDurable = true;
    if (this.#core === 'ack') this.#answer(true, null);
  }

  #answer(ack: boolean, error: Error | null): void {
    this.#core = 'done';
    this.acks.send(this.token, ack, error);
  }
}
