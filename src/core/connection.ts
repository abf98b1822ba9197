import type { ConnectionInfo, CoreConnection, ServerCloser, Session, SessionHandler } from './api.js';
import { CoreSession } from './session.js';
import type { VHost } from './vhost.js';
import type { Limits } from './limits.js';
import type { ConnectionAccess } from '../auth/access.js';
import type { FlowConnection, FlowListener, FlowQueue } from './publisher-flow.js';

let nextConnectionId = 1;
const NO_SESSIONS: readonly CoreSession[] = Object.freeze([]);

/** Called when a connection ends, so the core forgets it. */
export interface ConnectionRegistry {
  connectionClosed(connection: Connection): void;
}

/**
 * The core side of one client connection: its sessions, and the exclusive queues it owns
 * (deleted when it closes, AMQP 0-9-1 queue.declare "exclusive").
 */
export class Connection implements CoreConnection, FlowConnection {
  readonly id = nextConnectionId++;
  readonly info: ConnectionInfo;
  readonly vhost: VHost;
  readonly connectedAt = Date.now();
  /**
   * its open sessions, replaced (not grown) when one opens or closes: an MQTT or STOMP
   * connection has one, kept in a one-slot array rather than a Set (~150 bytes)
   */
  sessions: readonly CoreSession[] = NO_SESSIONS;
  readonly #registry: ConnectionRegistry;
  #closed = false;
  onServerClose: ((reason: string) => void) | ServerCloser | null = null;
  /** the front-end connection, which stops reading while a queue holds this one (publisher-flow.ts) */
  flow: FlowListener | null = null;
  /** the queues holding it now (publisher-flow.ts); null while none */
  flowHolds: Set<FlowQueue> | null = null;

  /** what the connection's user may do in its vhost */
  readonly access: ConnectionAccess;

  readonly #limits: Limits;

  constructor(info: ConnectionInfo, vhost: VHost, registry: ConnectionRegistry, access: ConnectionAccess, limits: Limits) {
    this.info = info;
    this.access = access;
    this.#limits = limits;
    this.vhost = vhost;
    this.#registry = registry;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @throws BrokerError NOT_ALLOWED past the user's channel limit */
  openSession(handler: SessionHandler): Session {
    this.#limits.checkChannel(this.info.user, this.sessions.length);
    const s = new CoreSession(this, this.vhost, handler);
    this.sessions = this.sessions.length === 0 ? [s] : [...this.sessions, s];
    return s;
  }

  checkAccess(access: 'configure' | 'write' | 'read', kind: 'queue' | 'exchange', name: string): void {
    this.access.check(access, kind, name);
  }

  sessionClosed(s: CoreSession): void {
    if (this.sessions.includes(s)) this.sessions = this.sessions.length === 1 ? NO_SESSIONS : this.sessions.filter((other) => other !== s);
  }

  /** whether a queue holds its publishes now (management shows `flow`) */
  get flowHeld(): boolean {
    return this.flowHolds !== null;
  }

  hasAckingConsumer(): boolean {
    for (const s of this.sessions) if (s.hasAckingConsumer()) return true;
    return false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.vhost.flow.exempt(this);
    for (const s of this.sessions) s.close();
    this.vhost.removeExclusiveQueues(this.id);
    this.#registry.connectionClosed(this);
  }
}

