/**
 * The `warren` command. `warren start` runs a broker until SIGINT or SIGTERM, then stops it
 * gracefully (clients are told, plugins stop in reverse order); a second signal exits at
 * once. A configuration error is one line on stderr and exit code 2; a start failure
 * (a port in use …) is logged and exit code 1.
 *
 * Run as `node dist/src/cli.js …` (npm start) or through the package bin, bin/warren.js.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONF_FILE } from './config/defaults.js';
import { ConfigError } from './config/schema.js';
import { ctl } from './cli/ctl.js';

export const EXIT_CONFIG_ERROR = 2;
export const EXIT_START_FAILED = 1;

const USAGE = `Usage: warren <command> [options]

Commands:
  start               run the broker; SIGINT/SIGTERM stop it gracefully (a second signal: at once);
                      SIGHUP reads the TLS certificate files again
  ctl <command>       operate a running broker through its management API, as rabbitmqctl
                      (list_queues, set_policy, export_definitions …; see warren ctl --help)

Options:
  -h, --help          show this help
  -v, --version       print the version

Options of start:
  --config <file>     conf file to read (default: ${DEFAULT_CONF_FILE} when it exists; or WARREN_CONFIG)
  --<key> <value>     set any configuration key: --amqp.port 5673, --data-dir /srv/warren,
                      --log.level debug, --plugins.amqp.enabled false

Every key can also be set by environment: WARREN_<KEY>, dots as underscores (WARREN_AMQP_PORT).
Precedence, lowest first: defaults < conf file < environment < flags.
Every key, its default and its doc: ${DEFAULT_CONF_FILE}; the reasons: docs/configuration.md.
`;

export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/** Run the command line `args` (without node and the script); resolves with the exit code. */
export async function main(args: readonly string[], env: NodeJS.ProcessEnv, io: CliIo = process): Promise<number> {
  const [command, ...rest] = args;
  if (command === '-h' || command === '--help' || command === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (command === '-v' || command === '--version' || command === 'version') {
    io.stdout.write(`warren ${version()}\n`);
    return 0;
  }
  if (command === 'start') {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(USAGE);
      return 0;
    }
    return start(rest, env, io);
  }
  if (command === 'ctl') return ctl(rest, env, io);
  io.stderr.write(command === undefined ? USAGE : `warren: unknown command ${JSON.stringify(command)}; see warren --help\n`);
  return EXIT_CONFIG_ERROR;
}

async function start(flags: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  // Loaded here, not at the top: `warren ctl` (run often, by scripts) needs none of it and
  // starts about twice as fast without.
  const [{ Broker }, { loadConfig }, { BUILTIN_PLUGINS }, { loadManifests }] = await Promise.all([
    import('./broker.js'),
    import('./config/load.js'),
    import('./plugin-host/builtin.js'),
    import('./plugin-host/host.js'),
  ]);
  const setup = { config: { defaultFile: DEFAULT_CONF_FILE, env, argv: flags }, defaultPorts: true } as const;
  // With cluster.etcd_endpoints set this process is a cluster node (docs/clustering.md).
  try {
    const manifests = await loadManifests(BUILTIN_PLUGINS);
    const config = loadConfig(manifests, setup.config);
    if (config.cluster.etcdEndpoints.length > 0) {
      // Loaded only here: a single node never loads the etcd client (gRPC).
      const { runClusterNode } = await import('./cluster/index.js');
      return await runClusterNode(config, manifests, setup, io);
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr.write(`warren: ${e.message}\n`);
    return EXIT_CONFIG_ERROR;
  }
  const broker = new Broker({}, setup);

  // Handlers go in before the start: a signal that arrives while plugins are starting (or
  // right after the "broker started" line) must stop the broker, not kill it mid-way.
  let stopping = false;
  let keepAlive: NodeJS.Timeout | undefined;
  let stopped!: (code: number) => void;
  const done = new Promise<number>((resolve) => (stopped = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      io.stderr.write(`warren: second ${signal}: exiting at once\n`);
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
    stopping = true;
    if (broker.state === 'running') broker.log.info('signal received: stopping', { signal });
    broker.stop().then(
      () => stopped(0),
      (e: unknown) => {
        io.stderr.write(`warren: stop failed: ${(e as Error)?.message ?? String(e)}\n`);
        stopped(EXIT_START_FAILED);
      },
    ).finally(() => clearInterval(keepAlive));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP: read the TLS certificate files again (renewed certificates without a restart)
  const onHangup = () => {
    if (broker.state !== 'running') return;
    try {
      broker.reloadTls();
    } catch (e) {
      broker.log.error('TLS certificate files not reloaded: the old ones stay in use', { error: (e as Error)?.message ?? String(e) });
    }
  };
  process.on('SIGHUP', onHangup);

  try {
    await broker.start();
  } catch (e) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHangup);
    if (e instanceof ConfigError) {
      io.stderr.write(`warren: ${e.message}\n`);
      return EXIT_CONFIG_ERROR;
    }
    // The plugin host has logged the details (with the cause); one summary line for people.
    io.stderr.write(`warren: start failed: ${(e as Error)?.message ?? String(e)}\n`);
    return EXIT_START_FAILED;
  }
  // Signal handlers do not keep the event loop alive; with no listener open (every plugin
  // disabled) the process would end at once instead of running until told to stop.
  if (!stopping) keepAlive = setInterval(() => undefined, 1 << 30);
  return done;
}

/** The package version, from the package.json above this file (src/ or dist/src/). */
export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'warren' && pkg.version) return pkg.version;
    } catch {
      // not here: look one directory up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/**
 * Exit with `code` once the event loop is empty, or after a grace second if something (a
 * leaked timer or socket) would keep the process alive after the broker stopped.
 */
export function exitWith(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1000).unref();
}

function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) exitWith(await main(process.argv.slice(2), process.env));
