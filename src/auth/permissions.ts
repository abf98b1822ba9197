/**
 * Per-vhost permissions as RabbitMQ applies them (https://www.rabbitmq.com/docs/access-control):
 * three regular expressions matched against resource names —
 * configure (declare, delete), write (publish to an exchange, bind *to* a queue/exchange),
 * read (consume/get/purge a queue, bind *from* an exchange). An empty pattern is ^$, which
 * no resource name matches (the default exchange is checked as amq.default).
 * Topic permissions add write/read patterns on routing keys for topic exchanges.
 */
export interface VhostPermission {
  configure: string;
  write: string;
  read: string;
}

export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

export type Access = 'configure' | 'write' | 'read';

/** Patterns compiled once; RabbitMQ anchors nothing, so a pattern matches anywhere unless it says ^…$. */
export class CompiledPermission {
  readonly #re: Record<Access, RegExp | null>;

  constructor(p: VhostPermission) {
    this.#re = { configure: compile(p.configure), write: compile(p.write), read: compile(p.read) };
  }

  allows(access: Access, name: string): boolean {
    const re = this.#re[access];
    return re !== null && re.test(name);
  }
}

/** Topic permission patterns may use {username}, {vhost} and {client_id}, expanded per connection. */
export function expandTopicPattern(pattern: string, vars: { username: string; vhost: string; client_id?: string }): string {
  return pattern.replace(/\{(username|vhost|client_id)\}/g, (_m, k: keyof typeof vars) => escapeRegExp(vars[k] ?? ''));
}

export function compile(pattern: string): RegExp | null {
  // rabbit_auth_backend_internal: an empty pattern is ^$ (it matches only an empty name)
  if (pattern === '') return /^$/;
  try {
    return new RegExp(pattern);
  } catch {
    return null; // an invalid pattern grants nothing (validated when permissions are set)
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
