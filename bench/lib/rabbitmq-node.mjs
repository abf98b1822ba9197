/**
 * A private RabbitMQ node for a bench sitting: its own node name, AMQP and distribution ports,
 * Mnesia, log and home directories (so its own Erlang cookie) under a temporary directory, no
 * plugins; started from Debian's `rabbitmq-server` and stopped by its pid (SIGTERM: the
 * node's orderly shutdown), never touching the machine's default node. Fresh state each start.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, reachable } from './brokers.mjs';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export function rabbitmqInstalled() {
  return existsSync(SERVER);
}

/**
 * @param {string} name the node name's prefix (a random suffix keeps it unique)
 * @returns {Promise<{ url: string, pid: number, version: string, stop: () => Promise<void> }>}
 */
export async function startRabbitmqNode(name = 'warrenbench') {
  const dir = mkdtempSync(join(tmpdir(), `${name}-rabbitmq-`));
  for (const d of ['mnesia', 'log', 'home']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const port = await freePort();
  const distPort = await freePort();
  const node = `${name}${process.pid}@localhost`;
  const env = {
    ...process.env,
    HOME: join(dir, 'home'),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
  };
  const child = spawn(SERVER, [], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  const killAtExit = () => {
    try {
      process.kill(-/** @type {number} */ (child.pid), 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', killAtExit);
  const deadline = Date.now() + 60_000;
  while (!(await reachable('127.0.0.1', port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      killAtExit();
      throw new Error(`RabbitMQ node ${node} did not start: ${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
  const version = /RabbitMQ ([\d.]+)/.exec(output)?.[1] ?? 'unknown';
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    pid,
    version,
    async stop() {
      const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(killAtExit, 20_000);
      await exited;
      clearTimeout(timer);
      process.off('exit', killAtExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
