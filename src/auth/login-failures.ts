import type { Logger } from '../log/index.js';

/** What a front-end knows about a refused login: never the password. */
export interface LoginFailure {
  /** 'amqp-0-9-1', 'mqtt', 'stomp' … */
  protocol: string;
  peerHost: string;
  peerPort: number;
  user: string;
  /** why, in words: "invalid credentials", "can only connect via localhost", "no access to vhost '/'" … */
  reason: string;
}

/**
 * Failed logins: every refusal on every protocol is logged once, at warn,
 * naming protocol, peer, user and reason, and is answered only after `delayMs`.
 *
 * The pause is a timer, never a wait in the event loop: other clients carry on meanwhile,
 * and the refused connection reads nothing more until it is answered (each front-end stops
 * processing its input). RabbitMQ makes a client whose handshake failed wait
 * (`rabbit_reader` ?SILENT_CLOSE_DELAY, 3 s, "so they can't DOS us with repeated failed
 * logins"); here the pause is configurable (`auth.failure_delay`) and the same for AMQP,
 * MQTT and STOMP.
 */
export class LoginFailures {
  /** 0 answers at once */
  delayMs = 1000;
  readonly #log: Logger | undefined;

  constructor(log: Logger | undefined) {
    this.#log = log;
  }

  /**
   * Log the failure, then call `answer` after the delay (on the next turn when the delay is 0,
   * so a caller's state is settled first). Returns the timer, for the front-end to clear when
   * its socket goes away first.
   */
  refuse(failure: LoginFailure, answer: () => void): NodeJS.Timeout {
    this.#log?.warn('login refused', {
      protocol: failure.protocol,
      peer: `${failure.peerHost}:${failure.peerPort}`,
      user: failure.user,
      reason: failure.reason,
      delayMs: this.delayMs,
    });
    return setTimeout(answer, this.delayMs);
  }
}
