/**
 * `warren ctl <command> [args]`: operate a running broker through its management API, as
 * `rabbitmqctl` operates RabbitMQ (the same command names, columns and output layout).
 *
 * Exit codes follow rabbitmqctl's (sysexits): 0 done, 64 bad command line, 65 the broker
 * refused the request, 69 the broker could not be reached, 77 not authorised.
 */
import { CtlClient, CtlError, type Target } from './ctl-client.js';
import { COMMANDS, UsageError, type CommandContext } from './ctl-commands.js';
import type { OutputOptions } from './ctl-output.js';

export const EXIT_USAGE = 64;
export const EXIT_DATAERR = 65;
export const EXIT_UNAVAILABLE = 69;
export const EXIT_NOPERM = 77;

interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const VALUE_FLAGS = new Set(['--host', '--port', '--user', '-u', '--password', '--vhost', '-p', '--formatter', '--timeout', '--priority', '--apply-to', '--tags']);
const COMMAND_FLAGS = new Set(['priority', 'apply-to', 'tags']);

export function ctlUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.args}\n  ${' '.repeat(width)}  ${c.summary}`);
  return `Usage: warren ctl [options] <command> [args]

Operates a running broker through its management API (the management plugin).

Options:
  --host <host>          broker host (WARREN_CTL_HOST; default localhost)
  --port <port>          management port (WARREN_CTL_PORT, else WARREN_MANAGEMENT_PORT; default 15672)
  -u, --user <user>      (WARREN_CTL_USER; default guest)
  --password <password>  (WARREN_CTL_PASSWORD; default guest)
  -p, --vhost <vhost>    vhost of per-vhost commands (default /)
  -q, --quiet            no informational lines
  --no-table-headers     no header row in lists
  --formatter json       print lists and status as JSON
  --timeout <ms>         how long to wait for the broker (default 30000)

Commands:
${lines.join('\n')}
`;
}

interface Parsed {
  target: Target;
  vhost: string;
  output: OutputOptions;
  flags: Map<string, string>;
  positional: string[];
}

function parse(args: readonly string[], env: NodeJS.ProcessEnv): Parsed {
  const values = new Map<string, string>();
  const positional: string[] = [];
  let quiet = false;
  let headers = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      values.set(name === '-u' ? '--user' : name === '-p' ? '--vhost' : name, value);
    } else if (a === '-q' || a === '--quiet') {
      quiet = true;
    } else if (a === '--no-table-headers') {
      headers = false;
    } else if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option ${a}`);
    } else {
      positional.push(a);
    }
  }
  const port = Number(values.get('--port') ?? env.WARREN_CTL_PORT ?? env.WARREN_MANAGEMENT_PORT ?? 15672);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`invalid port ${values.get('--port')}`);
  const timeoutMs = Number(values.get('--timeout') ?? 30000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('invalid --timeout');
  const formatter = values.get('--formatter') ?? 'table';
  if (formatter !== 'table' && formatter !== 'json') throw new UsageError(`unknown formatter ${formatter}: table or json`);
  const flags = new Map<string, string>();
  for (const [k, val] of values) if (COMMAND_FLAGS.has(k.slice(2))) flags.set(k.slice(2), val);
  return {
    target: {
      host: values.get('--host') ?? env.WARREN_CTL_HOST ?? 'localhost',
      port,
      user: values.get('--user') ?? env.WARREN_CTL_USER ?? 'guest',
      password: values.get('--password') ?? env.WARREN_CTL_PASSWORD ?? 'guest',
      timeoutMs,
    },
    vhost: values.get('--vhost') ?? '/',
    output: { quiet, headers, formatter },
    flags,
    positional,
  };
}

/** Run `warren ctl …` (`args` after "ctl"); resolves with the exit code. */
export async function ctl(args: readonly string[], env: NodeJS.ProcessEnv, io: Io, readStdin: () => Promise<string> = readAll): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h') || args[0] === 'help') {
    io.stdout.write(ctlUsage());
    return args.length === 0 ? EXIT_USAGE : 0;
  }
  try {
    const p = parse(args, env);
    const [name, ...rest] = p.positional;
    const command = name === undefined ? undefined : COMMANDS[name];
    if (!command) throw new UsageError(name === undefined ? 'no command given' : `unknown command ${JSON.stringify(name)}`);
    if (rest.length < command.min || rest.length > command.max) throw new UsageError(`usage: warren ctl ${name} ${command.args}`);
    const ctx: CommandContext = { client: new CtlClient(p.target), vhost: p.vhost, output: p.output, flags: p.flags, readStdin };
    io.stdout.write(await command.run(ctx, rest));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`warren ctl: ${e.message}\nSee warren ctl --help\n`);
      return EXIT_USAGE;
    }
    if (e instanceof CtlError) {
      io.stderr.write(`Error: ${e.message}\n`);
      if (e.status === null) return EXIT_UNAVAILABLE;
      return e.status === 401 || e.status === 403 ? EXIT_NOPERM : EXIT_DATAERR;
    }
    io.stderr.write(`Error: ${(e as Error)?.message ?? String(e)}\n`);
    return EXIT_DATAERR;
  }
}

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
