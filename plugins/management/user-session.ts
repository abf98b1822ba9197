/**
 * The API acts on queues and exchanges through a core session of the requesting user, as
 * RabbitMQ's management plugin does through a direct connection: the core applies that
 * user's permissions and answers with its usual errors. The connection lives for one
 * request and is not listed among client connections (protocol 'management').
 */
import type { CoreConnection, Message, ProtocolCore, Session, SessionHandler } from '../../src/core/index.js';
import type { Principal } from './auth.js';

export const MANAGEMENT_PROTOCOL = 'management';

export class UserSession implements SessionHandler {
  readonly #connection: CoreConnection;
  readonly session: Session;
  /** set by a mandatory publish that reached no queue */
  #unroutable = false;
  readonly #confirms = new Map<number, (ack: boolean, error: Error | null) => void>();
  #nextToken = 1;

  private constructor(core: ProtocolCore, principal: Principal, vhost: string) {
    this.#connection = core.connect({
      protocol: MANAGEMENT_PROTOCOL,
      vhost,
      user: principal.user,
      peerHost: principal.peerHost,
      peerPort: 0,
      name: 'management API',
    });
    try {
      this.session = this.#connection.openSession(this);
    } catch (e) {
      this.#connection.close();
      throw e;
    }
  }

  /** Run `f` in a session of `principal` in `vhost`; the connection ends afterwards, whatever happens. */
  static async run<T>(core: ProtocolCore, principal: Principal, vhost: string, f: (s: UserSession) => T | Promise<T>): Promise<T> {
    const us = new UserSession(core, principal, vhost);
    try {
      return await f(us);
    } finally {
      us.#connection.close();
    }
  }

  /**
   * Publish and wait until the broker has taken responsibility (a persistent message: on
   * disk). @returns whether some queue took it
   */
  publish(message: Message): Promise<boolean> {
    this.#unroutable = false;
    const token = this.#nextToken++;
    return new Promise<boolean>((resolve, reject) => {
      this.#confirms.set(token, (ack, error) => {
        if (ack || (this.#unroutable && error === null)) resolve(!this.#unroutable);
        else if (error) reject(new Error(`the broker could not make the message durable: ${error.message}`));
        else reject(new Error('the broker refused the message (a queue is full: x-overflow reject-publish)'));
      });
      try {
        this.session.publish(message, true, token);
      } catch (e) {
        this.#confirms.delete(token);
        reject(e);
      }
    });
  }

  deliver(): void {}
  consumerCancelled(): void {}

  returned(_message: Message, _replyCode: number, _replyText: string): void {
    this.#unroutable = true;
  }

  confirmed(token: number, ack: boolean, error: Error | null): void {
    const done = this.#confirms.get(token);
    this.#confirms.delete(token);
    done?.(ack, error);
  }
}
