import { BrokerError, preconditionFailed } from './errors.js';

/**
 * Resource limits, as RabbitMQ has them: a node-wide connection maximum
 * (`connection_max`), per-vhost limits (`rabbitmqctl set_vhost_limits`: max-connections,
 * max-queues) and per-user limits (`set_user_limits`: max-connections, max-channels).
 * A limit of -1 means none. Error texts are RabbitMQ's.
 */
export interface VhostLimits {
  maxConnections: number;
  maxQueues: number;
}

export interface UserLimits {
  maxConnections: number;
  maxChannels: number;
}

export class Limits {
  /** -1: unlimited */
  maxConnections = -1;
  readonly #vhosts = new Map<string, VhostLimits>();
  readonly #users = new Map<string, UserLimits>();

  /** @throws BrokerError PRECONDITION_FAILED for a limit that is not an integer ≥ -1 */
  setVhostLimits(vhost: string, limits: Partial<VhostLimits>): void {
    checkLimits(limits);
    this.#vhosts.set(vhost, { ...this.vhost(vhost), ...limits });
  }

  /** @throws BrokerError PRECONDITION_FAILED for a limit that is not an integer ≥ -1 */
  setUserLimits(user: string, limits: Partial<UserLimits>): void {
    checkLimits(limits);
    this.#users.set(user, { ...this.user(user), ...limits });
  }

  vhost(name: string): VhostLimits {
    return this.#vhosts.get(name) ?? { maxConnections: -1, maxQueues: -1 };
  }

  user(name: string): UserLimits {
    return this.#users.get(name) ?? { maxConnections: -1, maxChannels: -1 };
  }

  /** Before a connection opens: the node, vhost and user connection counts must stay within their limits. */
  /** whether `vhost` or `user` has a connection limit (else `checkConnection` needs no per-vhost or per-user count) */
  limitsConnectionsOf(vhost: string, user: string): boolean {
    return this.vhost(vhost).maxConnections >= 0 || this.user(user).maxConnections >= 0;
  }

  checkConnection(vhost: string, user: string, counts: { total: number; inVhost: number; ofUser: number }): void {
    if (this.maxConnections >= 0 && counts.total >= this.maxConnections) {
      throw new BrokerError('NOT_ALLOWED', `NOT_ALLOWED - connection limit (${this.maxConnections}) is reached`);
    }
    const v = this.vhost(vhost).maxConnections;
    if (v >= 0 && counts.inVhost >= v) {
      throw new BrokerError(
        'NOT_ALLOWED',
        `NOT_ALLOWED - access to vhost '${vhost}' refused for user '${user}': connection limit (${v}) is reached`,
      );
    }
    const u = this.user(user).maxConnections;
    if (u >= 0 && counts.ofUser >= u) {
      throw new BrokerError('NOT_ALLOWED', `NOT_ALLOWED - Connection refused for user '${user}'. User connection limit (${u}) is reached`);
    }
  }

  /** Before a session (channel) opens on a connection of `user` that has `open` already. */
  checkChannel(user: string, open: number): void {
    const u = this.user(user).maxChannels;
    if (u >= 0 && open >= u) {
      throw new BrokerError('NOT_ALLOWED', `NOT_ALLOWED - number of channels opened for user '${user}' has reached the maximum allowed user limit of (${u})`);
    }
  }

  /** Before a new queue is created in `vhost`, which has `count` queues. */
  checkQueue(vhost: string, queue: string, count: number): void {
    const v = this.vhost(vhost).maxQueues;
    if (v >= 0 && count >= v) throw preconditionFailed(`cannot declare queue '${queue}': queue limit in vhost '${vhost}' (${v}) is reached`);
  }
}

/**
 * Every setter goes through here, whoever calls it (management, a definitions file): a NaN
 * would turn a limit off without saying so, and be saved as null.
 */
function checkLimits(limits: Partial<VhostLimits> | Partial<UserLimits>): void {
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || (value as number) < -1) throw preconditionFailed(`invalid limit ${key}: ${String(value)} (an integer ≥ -1, -1: no limit)`);
  }
}
