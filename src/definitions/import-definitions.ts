/**
 * Apply a definitions file in RabbitMQ's format (https://www.rabbitmq.com/docs/definitions)
 * to a running core: at boot (`load_definitions`), from `POST /api/definitions` and from
 * `warren ctl import_definitions`. Everything goes through the core's own operations, so
 * what is durable is saved and policies apply at once.
 *
 * Order as RabbitMQ's import: vhosts, users, permissions, limits, policies, exchanges,
 * queues, bindings. An item that cannot be applied (a stream queue before stream support,
 * a binding to a missing queue, an invalid policy) is skipped and reported, and the rest
 * goes on: one bad line does not cost an operator the whole file. Existing objects are
 * kept (a redeclaration with other properties is reported, as RabbitMQ refuses it).
 */
import { readFile } from 'node:fs/promises';
import type { Core } from '../core/core.js';
import { userWithPassword } from '../auth/users.js';
import type { Policy } from '../core/policies.js';
import type { VHost } from '../core/vhost.js';
import { jsonToFieldTable } from './json-values.js';
import { tagList, type RabbitDefinitions, type RabbitQueue } from './rabbit-format.js';

export interface ImportReport {
  vhosts: number;
  users: number;
  permissions: number;
  topicPermissions: number;
  policies: number;
  exchanges: number;
  queues: number;
  bindings: number;
  /** what was skipped or changed, one line each: "queue 'telemetry' in vhost 'iot': …" */
  warnings: string[];
}

const SUPPORTED_HASHES = new Set(['rabbit_password_hashing_sha256', 'rabbit_password_hashing_sha512', 'rabbit_password_hashing_md5']);

/**
 * Import `defs` into `core`. With `intoVhost`, the file is a per-vhost export (no vhost
 * fields; users, vhosts and permissions ignored) applied to that vhost.
 * @throws TypeError when `defs` is not a definitions object at all
 */
export async function importDefinitions(core: Core, defs: unknown, intoVhost?: string): Promise<ImportReport> {
  if (typeof defs !== 'object' || defs === null || Array.isArray(defs)) throw new TypeError('definitions must be a JSON object');
  const d = defs as RabbitDefinitions;
  const r: ImportReport = { vhosts: 0, users: 0, permissions: 0, topicPermissions: 0, policies: 0, exchanges: 0, queues: 0, bindings: 0, warnings: [] };
  const warn = (what: string, e: unknown) => r.warnings.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  const vhostOf = (item: { vhost?: string }) => intoVhost ?? item.vhost ?? core.defaultVhost;

  if (intoVhost === undefined) {
    for (const v of list(d.vhosts, 'vhosts', r)) {
      if (typeof v.name !== 'string') {
        r.warnings.push('vhost without a name skipped');
        continue;
      }
      try {
        const description = v.description ?? v.metadata?.description;
        const tags = tagList(v.tags ?? v.metadata?.tags);
        const metadata: Record<string, unknown> = {};
        if (description) metadata.description = description;
        if (tags.length > 0) metadata.tags = tags;
        const dqt = v.default_queue_type ?? v.metadata?.default_queue_type;
        if (dqt && dqt !== 'undefined') metadata.default_queue_type = dqt;
        await core.createVhost(v.name, metadata);
        r.vhosts++;
      } catch (e) {
        warn(`vhost '${v.name}'`, e);
      }
    }
    for (const u of list(d.users, 'users', r)) {
      const what = `user '${u.name}'`;
      try {
        if (typeof u.name !== 'string') throw new Error('no name');
        if (u.hashing_algorithm !== undefined && !SUPPORTED_HASHES.has(u.hashing_algorithm)) {
          throw new Error(`unsupported hashing algorithm '${u.hashing_algorithm}'`);
        }
        // a password in clear also gives SCRAM credentials; a hash cannot
        const tags = tagList(u.tags);
        core.putUser(typeof u.password === 'string' ? userWithPassword(u.name, u.password, tags) : { name: u.name, passwordHash: u.password_hash ?? '', tags });
        const limits = u.limits ?? {};
        if (limits['max-connections'] !== undefined || limits['max-channels'] !== undefined) {
          core.limits.setUserLimits(u.name, {
            ...(limits['max-connections'] !== undefined ? { maxConnections: Number(limits['max-connections']) } : {}),
            ...(limits['max-channels'] !== undefined ? { maxChannels: Number(limits['max-channels']) } : {}),
          });
        }
        r.users++;
      } catch (e) {
        warn(what, e);
      }
    }
    for (const p of list(d.permissions, 'permissions', r)) {
      try {
        core.setPermissions(p.user, p.vhost, { configure: p.configure ?? '', write: p.write ?? '', read: p.read ?? '' });
        r.permissions++;
      } catch (e) {
        warn(`permissions of user '${p.user}' in vhost '${p.vhost}'`, e);
      }
    }
    for (const t of list(d.topic_permissions, 'topic_permissions', r)) {
      try {
        core.setTopicPermission(t.user, t.vhost, { exchange: t.exchange, write: t.write ?? '', read: t.read ?? '' });
        r.topicPermissions++;
      } catch (e) {
        warn(`topic permissions of user '${t.user}' in vhost '${t.vhost}'`, e);
      }
    }
  }

  for (const p of list(d.parameters, 'parameters', r)) {
    const vhost = vhostOf(p);
    if (p.component !== 'vhost-limits') {
      r.warnings.push(`parameter '${p.name}' of component '${p.component}' in vhost '${vhost}' skipped: not supported`);
      continue;
    }
    const v = p.value ?? {};
    try {
      core.setVhostLimits(vhost, {
        ...(v['max-connections'] !== undefined ? { maxConnections: Number(v['max-connections']) } : {}),
        ...(v['max-queues'] !== undefined ? { maxQueues: Number(v['max-queues']) } : {}),
      });
    } catch (e) {
      warn(`limits of vhost '${vhost}'`, e);
    }
  }

  for (const p of list(d.policies, 'policies', r)) {
    const vhost = vhostOf(p);
    try {
      core.setPolicy({
        vhost,
        name: p.name,
        pattern: p.pattern,
        applyTo: (p['apply-to'] ?? 'all') as Policy['applyTo'],
        priority: Number(p.priority ?? 0),
        definition: jsonToFieldTable(p.definition),
      });
      r.policies++;
    } catch (e) {
      warn(`policy '${p.name}' in vhost '${vhost}'`, e);
    }
  }

  for (const x of list(d.exchanges, 'exchanges', r)) {
    const vhost = vhostOf(x);
    try {
      if (x.name === '' || x.name.startsWith('amq.')) continue; // built in: every vhost has them
      requireVhost(core, vhost).declareExchange(x.name, x.type, {
        durable: x.durable ?? true,
        autoDelete: !!x.auto_delete,
        internal: !!x.internal,
        arguments: jsonToFieldTable(x.arguments),
      });
      r.exchanges++;
    } catch (e) {
      warn(`exchange '${x.name}' in vhost '${vhost}'`, e);
    }
  }

  for (const q of list(d.queues, 'queues', r)) {
    const vhost = vhostOf(q);
    try {
      const args = queueArguments(q);
      requireVhost(core, vhost).declareQueue(q.name, { durable: q.durable ?? true, autoDelete: !!q.auto_delete, arguments: args }, 0);
      r.queues++;
    } catch (e) {
      warn(`queue '${q.name}' in vhost '${vhost}'`, e);
    }
  }

  for (const b of list(d.bindings, 'bindings', r)) {
    const vhost = vhostOf(b);
    const what = `binding of ${b.destination_type} '${b.destination}' to exchange '${b.source}' in vhost '${vhost}'`;
    try {
      const v = requireVhost(core, vhost);
      const dest = b.destination_type === 'exchange' ? v.exchange(b.destination) : v.queue(b.destination, 0);
      v.checkBindable(b.source, b.destination_type === 'exchange' ? b.destination : undefined);
      v.bind(b.source, dest, b.routing_key ?? '', jsonToFieldTable(b.arguments));
      r.bindings++;
    } catch (e) {
      warn(what, e);
    }
  }
  return r;
}

/** Read and import a definitions file (the `load_definitions` key). */
export async function importDefinitionsFile(core: Core, path: string): Promise<ImportReport> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read definitions file ${path}: ${(e as Error).message}`);
  }
  return importDefinitions(core, parsed);
}

/** Queue arguments for this broker: the queue type from newer files' `type` field joins the arguments. */
function queueArguments(q: RabbitQueue) {
  const args = jsonToFieldTable(q.arguments);
  const type = typeof args['x-queue-type'] === 'string' ? args['x-queue-type'] : q.type;
  if (type !== undefined && type !== 'classic') args['x-queue-type'] = type;
  return args;
}

function requireVhost(core: Core, name: string): VHost {
  const v = core.vhosts.get(name);
  if (!v) throw new Error(`vhost '${name}' does not exist`);
  return v;
}

/** A list field of the file: absent is empty; anything but an array of objects is reported. */
function list<T>(value: T[] | undefined, field: string, r: ImportReport): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    r.warnings.push(`'${field}' is not a list: skipped`);
    return [];
  }
  return value.filter((item) => {
    const ok = typeof item === 'object' && item !== null;
    if (!ok) r.warnings.push(`an item of '${field}' is not an object: skipped`);
    return ok;
  });
}
