/**
 * Heart-beating (STOMP 1.1/1.2 "Heart-beating"). The client's CONNECT says `heart-beat:cx,cy`:
 * it can send every cx ms (0: never) and wants to receive every cy ms (0: no need). The
 * server answers `sx,sy` in CONNECTED; each side then beats every max(own, wanted) ms.
 *
 * Like RabbitMQ, the server goes along with what the client asks, answering sx = cy and
 * sy = cx, raised to a floor (`min_heartbeat`) so that a client cannot make the server beat
 * every millisecond.
 */
import { StompError } from './errors.js';

export interface HeartbeatPlan {
  /** ms between the server's beats (0: none) */
  send: number;
  /** ms within which the client must send something (0: not watched) */
  receive: number;
}

/** Parse the client's header and agree on intervals; absent means "0,0". */
export function negotiateHeartbeat(header: string | undefined, floor: number): HeartbeatPlan {
  if (header === undefined) return { send: 0, receive: 0 };
  const m = /^\s*(\d{1,9})\s*,\s*(\d{1,9})\s*$/.exec(header);
  if (!m) throw new StompError('Invalid heart-beat header', `heart-beat '${header}' is not two comma-separated numbers`);
  const cx = Number(m[1]);
  const cy = Number(m[2]);
  return { send: cy > 0 ? Math.max(cy, floor) : 0, receive: cx > 0 ? Math.max(cx, floor) : 0 };
}

/** What a connection's heart-beat timers act on. */
export interface HeartbeatTarget {
  sendHeartbeat(): void;
  /** nothing came from the client for too long */
  heartbeatTimeout(): void;
}

/**
 * Timers for one connection. The hot path only sets two booleans (`sawRead`, `sawWrite`);
 * each timer tick looks at them and clears them.
 */
export class Heartbeats {
  sawRead = false;
  sawWrite = false;
  #sendTimer: NodeJS.Timeout | null = null;
  #receiveTimer: NodeJS.Timeout | null = null;

  start(plan: HeartbeatPlan, target: HeartbeatTarget, tolerance: number): void {
    if (plan.send > 0) {
      // ticking at half the interval keeps every silence under `send` ms, timer jitter aside
      this.#sendTimer = setInterval(() => {
        if (this.sawWrite) {
          this.sawWrite = false;
        } else {
          target.sendHeartbeat();
          this.sawWrite = true; // the beat counts: the next tick may rest
        }
      }, Math.max(1, Math.floor(plan.send / 2)));
      this.#sendTimer.unref();
    }
    if (plan.receive > 0) {
      // the spec asks for tolerance of network latency: allow `tolerance` intervals of silence
      this.#receiveTimer = setInterval(() => {
        if (!this.sawRead) target.heartbeatTimeout();
        this.sawRead = false;
      }, Math.round(plan.receive * tolerance));
      this.#receiveTimer.unref();
    }
  }

  stop(): void {
    if (this.#sendTimer) clearInterval(this.#sendTimer);
    if (this.#receiveTimer) clearInterval(this.#receiveTimer);
    this.#sendTimer = this.#receiveTimer = null;
  }
}
