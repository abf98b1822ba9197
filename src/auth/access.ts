import { accessRefused } from '../core/errors.js';
import type { Access, CompiledPermission, TopicPermission } from './permissions.js';
import { compile, expandTopicPattern } from './permissions.js';

/**
 * What one connection's user may do in its vhost, checked by the core on every operation
 * (so AMQP, MQTT and STOMP are all held to the same rules). Error texts are RabbitMQ's.
 */
const NO_TOPIC_PERMISSIONS: readonly { exchange: string; write: RegExp | null; read: RegExp | null }[] = Object.freeze([]);

export class ConnectionAccess {
  readonly user: string;
  readonly vhost: string;
  readonly #permission: CompiledPermission;
  readonly #topic: readonly { exchange: string; write: RegExp | null; read: RegExp | null }[];

  constructor(user: string, vhost: string, permission: CompiledPermission, topic: TopicPermission[], clientId?: string) {
    this.user = user;
    this.vhost = vhost;
    this.#permission = permission;
    const vars = { username: user, vhost, client_id: clientId };
    // most users have no topic permissions: one shared empty list, not one per connection
    this.#topic = topic.length === 0 ? NO_TOPIC_PERMISSIONS : topic.map((t) => ({
      exchange: t.exchange,
      write: compile(expandTopicPattern(t.write, vars)),
      read: compile(expandTopicPattern(t.read, vars)),
    }));
  }

  /** 403 unless the user has `access` to the named queue or exchange */
  check(access: Access, kind: 'queue' | 'exchange', name: string): void {
    // rabbit_access_control: the default exchange is checked under the name amq.default
    if (kind === 'exchange' && name === '') name = 'amq.default';
    if (this.#permission.allows(access, name)) return;
    throw accessRefused(
      `${access} access to ${kind} '${name}' in vhost '${this.vhost}' refused for user '${this.user}'`,
    );
  }

  /**
   * Passive declares (rabbit_channel check_any_resource_access_permitted, RabbitMQ ≥ 4.1,
   * rabbitmq-server#16085): any of read, write or configure will do; the refusal names
   * configure, as a regular declare's would.
   */
  checkAny(kind: 'queue' | 'exchange', name: string): void {
    const checked = kind === 'exchange' && name === '' ? 'amq.default' : name;
    if (this.#permission.allows('read', checked) || this.#permission.allows('write', checked)) return;
    this.check('configure', kind, name);
  }

  /** Topic permissions on a topic exchange's routing key (RabbitMQ: checked only where defined for that exchange). */
  checkTopic(access: 'write' | 'read', exchange: string, routingKey: string): void {
    if (this.#topic.length === 0) return;
    for (const t of this.#topic) {
      if (t.exchange !== exchange) continue;
      const re = access === 'write' ? t.write : t.read;
      if (re !== null && re.test(routingKey)) return;
      throw accessRefused(
        `${access} access to topic '${routingKey}' in exchange '${exchange}' in vhost '${this.vhost}' refused for user '${this.user}'`,
      );
    }
  }
}
