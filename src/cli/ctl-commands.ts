/**
 * The commands of `warren ctl`, named and shaped as `rabbitmqctl`'s, each a call or two to
 * the management API of the running broker.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { CtlClient, CtlError } from './ctl-client.js';
import { clusterStatusCommand } from './ctl-cluster.js';
import { pick, renderList, type OutputOptions, type Row } from './ctl-output.js';

export interface CommandContext {
  client: CtlClient;
  /** -p / --vhost */
  vhost: string;
  output: OutputOptions;
  /** command-specific flags: --priority, --apply-to, --tags */
  flags: Map<string, string>;
  /** for '-' as a file: standard input and output */
  readStdin(): Promise<string>;
}

export interface Command {
  args: string;
  summary: string;
  min: number;
  max: number;
  run(ctx: CommandContext, args: string[]): Promise<string>;
}

const v = encodeURIComponent;

/** A `list_*` command: CLI column names → API fields (dotted paths, or computed). */
function listCommand(o: {
  what: string;
  perVhost: boolean;
  path: (vhost: string) => string;
  defaults: string[];
  columns?: Record<string, string | ((item: Row) => unknown)>;
}): Command {
  return {
    args: `${o.perVhost ? '[-p <vhost>] ' : ''}[<column> …]`,
    summary: `list ${o.what}; default columns: ${o.defaults.join(' ')}`,
    min: 0,
    max: Infinity,
    async run(ctx, args) {
      const columns = args.length > 0 ? args : o.defaults;
      const items = (await ctx.client.get(o.path(ctx.vhost))) as Row[];
      const rows = items.map((item) => {
        const row: Row = {};
        for (const c of columns) {
          const source = o.columns?.[c] ?? c;
          row[c] = typeof source === 'function' ? source(item) : pick(item, source);
        }
        return row;
      });
      const info = o.perVhost ? `Listing ${o.what} for vhost ${ctx.vhost} ...` : `Listing ${o.what} ...`;
      return renderList(rows, columns, info, ctx.output);
    },
  };
}

/** Wait for the call, then the message (already ended by a newline, or empty when quiet). */
async function done(p: Promise<unknown>, message: string): Promise<string> {
  await p;
  return message;
}

/** A message for people, unless --quiet. */
const say = (ctx: CommandContext, text: string) => (ctx.output.quiet ? '' : `${text}\n`);

export const COMMANDS: Record<string, Command> = {
  status: {
    args: '',
    summary: 'the node: version, uptime, memory, disk, alarms, totals, listeners',
    min: 0,
    max: 0,
    async run(ctx) {
      const overview = (await ctx.client.get('/api/overview')) as Row;
      let node: Row | undefined;
      try {
        node = ((await ctx.client.get('/api/nodes')) as Row[])[0];
      } catch (e) {
        if (!(e instanceof CtlError) || e.status !== 401) throw e; // a non-monitoring user sees less
      }
      if (ctx.output.formatter === 'json') return `${JSON.stringify({ overview, node }, null, 2)}\n`;
      const totals = overview.object_totals as Record<string, number>;
      const queued = overview.queue_totals as Record<string, number>;
      const alarms = overview.alarms as string[];
      const lines = [
        `Status of node ${String(overview.node)} ...`,
        '',
        'Runtime',
        `  Product: ${String(overview.product_name)} ${String(overview.product_version)}`,
      ];
      if (node) {
        lines.push(
          `  Node.js: ${String(node.node_version)}`,
          `  OS PID: ${String(node.os_pid)}`,
          `  Uptime (seconds): ${Math.round(Number(node.uptime) / 1000)}`,
          '',
          'Memory',
          `  Used: ${mib(node.mem_used)} (limit ${mib(node.mem_limit)})`,
          '',
          'Disk',
          `  Free: ${mib(node.disk_free)} (limit ${mib(node.disk_free_limit)})`,
        );
      }
      lines.push(
        '',
        'Alarms',
        `  ${alarms.length === 0 ? '(none)' : alarms.join(', ')}`,
        '',
        'Totals',
        `  Connections: ${totals.connections}`,
        `  Channels: ${totals.channels}`,
        `  Queues: ${totals.queues}`,
        `  Consumers: ${totals.consumers}`,
        `  Messages: ${queued.messages} (ready ${queued.messages_ready}, unacknowledged ${queued.messages_unacknowledged})`,
        '',
        'Connections by protocol',
        ...Object.entries(overview.connections_by_protocol as Record<string, number>).map(([p, n]) => `  ${p}: ${n}`),
        '',
        'Listeners',
        ...(overview.listeners as Row[]).map((l) => `  ${String(l.protocol)} on ${String(l.ip_address)}:${String(l.port)} (management API, UI, /metrics)`),
      );
      return `${lines.join('\n')}\n`;
    },
  },

  cluster_status: clusterStatusCommand,

  list_queues: listCommand({ what: 'queues', perVhost: true, path: (vh) => `/api/queues/${v(vh)}`, defaults: ['name', 'messages'] }),
  list_exchanges: listCommand({ what: 'exchanges', perVhost: true, path: (vh) => `/api/exchanges/${v(vh)}`, defaults: ['name', 'type'] }),
  list_bindings: listCommand({
    what: 'bindings',
    perVhost: true,
    path: (vh) => `/api/bindings/${v(vh)}`,
    defaults: ['source_name', 'source_kind', 'destination_name', 'destination_kind', 'routing_key', 'arguments'],
    columns: { source_name: 'source', source_kind: () => 'exchange', destination_name: 'destination', destination_kind: 'destination_type' },
  }),
  list_connections: listCommand({ what: 'connections', perVhost: false, path: () => '/api/connections', defaults: ['user', 'peer_host', 'peer_port', 'state'] }),
  list_channels: listCommand({
    what: 'channels',
    perVhost: false,
    path: () => '/api/channels',
    defaults: ['name', 'user', 'consumer_count', 'messages_unacknowledged'],
    columns: { connection: 'connection_details.name' },
  }),
  list_consumers: listCommand({
    what: 'consumers',
    perVhost: true,
    path: (vh) => `/api/consumers/${v(vh)}`,
    defaults: ['queue_name', 'channel_pid', 'consumer_tag', 'ack_required', 'prefetch_count', 'active', 'arguments'],
    columns: { queue_name: 'queue.name', channel_pid: 'channel_details.name' },
  }),
  list_users: listCommand({ what: 'users', perVhost: false, path: () => '/api/users', defaults: ['name', 'tags'] }),
  list_vhosts: listCommand({ what: 'vhosts', perVhost: false, path: () => '/api/vhosts', defaults: ['name'] }),
  list_permissions: listCommand({ what: 'permissions', perVhost: true, path: (vh) => `/api/vhosts/${v(vh)}/permissions`, defaults: ['user', 'configure', 'write', 'read'] }),
  list_policies: listCommand({
    what: 'policies',
    perVhost: true,
    path: (vh) => `/api/policies/${v(vh)}`,
    defaults: ['vhost', 'name', 'pattern', 'apply-to', 'definition', 'priority'],
  }),

  add_user: {
    args: '<user> <password> [--tags <tag,…>]',
    summary: 'create a user (no tags unless --tags)',
    min: 2,
    max: 2,
    run: (ctx, [user, password]) =>
      done(ctx.client.call('PUT', `/api/users/${v(user!)}`, { password, tags: ctx.flags.get('tags') ?? '' }), say(ctx, `Adding user "${user}" ...`)),
  },
  delete_user: {
    args: '<user>',
    summary: 'delete a user (its connections are closed)',
    min: 1,
    max: 1,
    run: (ctx, [user]) => done(ctx.client.call('DELETE', `/api/users/${v(user!)}`), say(ctx, `Deleting user "${user}" ...`)),
  },
  change_password: {
    args: '<user> <password>',
    summary: "set a user's password",
    min: 2,
    max: 2,
    async run(ctx, [user, password]) {
      const u = (await ctx.client.get(`/api/users/${v(user!)}`)) as Row;
      return done(ctx.client.call('PUT', `/api/users/${v(user!)}`, { password, tags: u.tags }), say(ctx, `Changing password for user "${user}" ...`));
    },
  },
  set_user_tags: {
    args: '<user> [<tag> …]',
    summary: "replace a user's tags (administrator, monitoring, policymaker, management)",
    min: 1,
    max: Infinity,
    run: (ctx, [user, ...tags]) =>
      done(ctx.client.call('PUT', `/api/users/${v(user!)}`, { tags }), say(ctx, `Setting tags for user "${user}" to [${tags.join(', ')}] ...`)),
  },
  add_vhost: {
    args: '<vhost>',
    summary: 'create a vhost',
    min: 1,
    max: 1,
    run: (ctx, [vhost]) => done(ctx.client.call('PUT', `/api/vhosts/${v(vhost!)}`, {}), say(ctx, `Adding vhost "${vhost}" ...`)),
  },
  delete_vhost: {
    args: '<vhost>',
    summary: 'delete a vhost and everything in it',
    min: 1,
    max: 1,
    run: (ctx, [vhost]) => done(ctx.client.call('DELETE', `/api/vhosts/${v(vhost!)}`), say(ctx, `Deleting vhost "${vhost}" ...`)),
  },
  set_permissions: {
    args: '[-p <vhost>] <user> <conf> <write> <read>',
    summary: "set a user's permissions in a vhost (regular expressions)",
    min: 4,
    max: 4,
    run: (ctx, [user, configure, write, read]) =>
      done(
        ctx.client.call('PUT', `/api/permissions/${v(ctx.vhost)}/${v(user!)}`, { configure, write, read }),
        say(ctx, `Setting permissions for user "${user}" in vhost "${ctx.vhost}" ...`),
      ),
  },
  clear_permissions: {
    args: '[-p <vhost>] <user>',
    summary: "remove a user's permissions in a vhost",
    min: 1,
    max: 1,
    run: (ctx, [user]) =>
      done(ctx.client.call('DELETE', `/api/permissions/${v(ctx.vhost)}/${v(user!)}`), say(ctx, `Clearing permissions for user "${user}" in vhost "${ctx.vhost}" ...`)),
  },
  set_topic_permissions: {
    args: '[-p <vhost>] <user> <exchange> <write> <read>',
    summary: "set a user's topic permissions on an exchange",
    min: 4,
    max: 4,
    run: (ctx, [user, exchange, write, read]) =>
      done(
        ctx.client.call('PUT', `/api/topic-permissions/${v(ctx.vhost)}/${v(user!)}`, { exchange, write, read }),
        say(ctx, `Setting topic permissions on "${exchange}" for user "${user}" in vhost "${ctx.vhost}" ...`),
      ),
  },
  set_policy: {
    args: '[-p <vhost>] [--priority <n>] [--apply-to queues|exchanges|all] <name> <pattern> <definition JSON>',
    summary: 'set a policy, applied at once to matching queues and exchanges',
    min: 3,
    max: 3,
    async run(ctx, [name, pattern, definition]) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(definition!);
      } catch {
        throw new UsageError(`the policy definition is not JSON: ${definition}`);
      }
      const body = { pattern, definition: parsed, priority: Number(ctx.flags.get('priority') ?? 0), 'apply-to': ctx.flags.get('apply-to') ?? 'all' };
      return done(ctx.client.call('PUT', `/api/policies/${v(ctx.vhost)}/${v(name!)}`, body), say(ctx, `Setting policy "${name}" for pattern "${pattern}" to "${definition}" with priority "${body.priority}" for vhost "${ctx.vhost}" ...`));
    },
  },
  clear_policy: {
    args: '[-p <vhost>] <name>',
    summary: 'remove a policy',
    min: 1,
    max: 1,
    run: (ctx, [name]) => done(ctx.client.call('DELETE', `/api/policies/${v(ctx.vhost)}/${v(name!)}`), say(ctx, `Clearing policy "${name}" on vhost "${ctx.vhost}" ...`)),
  },
  purge_queue: {
    args: '[-p <vhost>] <queue>',
    summary: 'drop the ready messages of a queue',
    min: 1,
    max: 1,
    run: (ctx, [queue]) => done(ctx.client.call('DELETE', `/api/queues/${v(ctx.vhost)}/${v(queue!)}/contents`), say(ctx, `Purging queue '${queue}' in vhost '${ctx.vhost}' ...`)),
  },
  delete_queue: {
    args: '[-p <vhost>] <queue>',
    summary: 'delete a queue',
    min: 1,
    max: 1,
    run: (ctx, [queue]) => done(ctx.client.call('DELETE', `/api/queues/${v(ctx.vhost)}/${v(queue!)}`), say(ctx, `Deleting queue '${queue}' on vhost '${ctx.vhost}' ...`)),
  },
  close_connection: {
    args: '<connection name> <reason>',
    summary: 'close a client connection (its client is told the reason)',
    min: 2,
    max: 2,
    async run(ctx, [name, reason]) {
      // in the query rather than RabbitMQ's X-Reason header: a header cannot carry any text
      await ctx.client.call('DELETE', `/api/connections/${v(name!)}?reason=${v(reason!)}`);
      return say(ctx, `Closing connection ${name}, reason: ${reason}...`);
    },
  },
  export_definitions: {
    args: '<file | ->',
    summary: "write the broker's definitions (RabbitMQ's JSON format) to a file, or to standard output with -",
    min: 1,
    max: 1,
    async run(ctx, [file]) {
      const defs = await ctx.client.get('/api/definitions');
      const text = `${JSON.stringify(defs, null, 2)}\n`;
      if (file === '-') return text;
      await writeFile(file!, text);
      return say(ctx, `Exported definitions to ${file}`);
    },
  },
  import_definitions: {
    args: '<file | ->',
    summary: 'import definitions (RabbitMQ JSON) from a file, or from standard input with -',
    min: 1,
    max: 1,
    async run(ctx, [file]) {
      const text = file === '-' ? await ctx.readStdin() : await readFile(file!, 'utf8');
      let defs: unknown;
      try {
        defs = JSON.parse(text);
      } catch (e) {
        throw new UsageError(`${file === '-' ? 'standard input' : file} is not JSON: ${(e as Error).message}`);
      }
      const report = (await ctx.client.call('POST', '/api/definitions', defs)).body as { warnings?: string[] };
      const warnings = report.warnings ?? [];
      return say(ctx, [`Imported definitions from ${file === '-' ? 'standard input' : file}`, ...warnings.map((w) => `  skipped: ${w}`)].join('\n'));
    },
  },
};

/** A mistake in the command line (exit 64, as rabbitmqctl's EX_USAGE). */
export class UsageError extends Error {}

function mib(n: unknown): string {
  return typeof n === 'number' ? `${(n / 1048576).toFixed(1)} MiB` : 'unknown';
}
