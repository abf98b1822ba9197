/**
 * A private three-node RabbitMQ cluster for a bench sitting (quorum queues need one): nodes
 * `<name><pid>n<i>@localhost`, each with its own AMQP and distribution ports, Mnesia, log
 * and config files under one temporary directory, one Erlang cookie written there (shared by
 * the nodes and by `rabbitmqctl`, through HOME), no plugins. Nodes 1 and 2 join node 0 with
 * `rabbitmqctl -n <node> stop_app / join_cluster / start_app`. Stopped by pid (SIGTERM, the
 * node's orderly shutdown; SIGKILL after 20 s), never touching the machine's default node.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { freePort, reachable } from './brokers.mjs';

const SBIN = '/usr/lib/rabbitmq/bin';
const run = promisify(execFile);

/**
 * @param {{ name?: string, size?: number, log?: (line: string) => void }} [o]
 * @returns {Promise<{ urls: string[], pids: number[], nodes: string[], version: string, ctl: (i: number, ...args: string[]) => Promise<string>, stop: () => Promise<void> }>}
 */
export async function startRabbitmqCluster(o = {}) {
  const name = o.name ?? 'warrenha';
  const size = o.size ?? 3;
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), `${name}-rabbitmq-cluster-`));
  const home = join(dir, 'home');
  mkdirSync(home);
  writeFileSync(join(home, '.erlang.cookie'), randomBytes(15).toString('hex').toUpperCase());
  chmodSync(join(home, '.erlang.cookie'), 0o400);
  const members = [];
  for (let i = 0; i < size; i++) {
    const base = join(dir, `n${i}`);
    for (const d of ['mnesia', 'log']) mkdirSync(join(base, d), { recursive: true });
    writeFileSync(join(base, 'enabled_plugins'), '[].\n');
    members.push({ base, node: `${name}${process.pid}n${i}@localhost`, port: await freePort(), distPort: await freePort(), child: null, output: '' });
  }
  const env = (m) => ({
    ...process.env,
    HOME: home,
    RABBITMQ_NODENAME: m.node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(m.port),
    RABBITMQ_DIST_PORT: String(m.distPort),
    RABBITMQ_MNESIA_BASE: join(m.base, 'mnesia'),
    RABBITMQ_LOG_BASE: join(m.base, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(m.base, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(m.base, 'rabbitmq'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(m.base, 'advanced.config'),
    RABBITMQ_PID_FILE: join(m.base, 'pid'),
  });
  const ctl = async (m, ...args) => {
    const { stdout } = await run(join(SBIN, 'rabbitmqctl'), ['-n', m.node, ...args], { env: env(m), timeout: 120_000 });
    return stdout;
  };
  const killAll = () => {
    for (const m of members) {
      try {
        if (m.child) process.kill(-m.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killAll);
  try {
    for (const m of members) {
      m.child = spawn(join(SBIN, 'rabbitmq-server'), [], { env: env(m), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      m.child.stdout.on('data', (b) => (m.output = (m.output + b).slice(-4000)));
      m.child.stderr.on('data', (b) => (m.output = (m.output + b).slice(-4000)));
    }
    const deadline = Date.now() + 120_000;
    for (const m of members) {
      while (!(await reachable('127.0.0.1', m.port))) {
        if (m.child.exitCode !== null || Date.now() > deadline) throw new Error(`RabbitMQ node ${m.node} did not start: ${m.output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      m.pid = Number(readFileSync(join(m.base, 'pid'), 'utf8').trim());
    }
    log(`rabbitmq: ${size} nodes up, joining them to ${members[0].node}`);
    for (const m of members.slice(1)) {
      await ctl(m, 'stop_app');
      await ctl(m, 'join_cluster', members[0].node);
      await ctl(m, 'start_app');
    }
    const status = await ctl(members[0], 'cluster_status', '--formatter', 'json');
    const running = JSON.parse(status).running_nodes ?? [];
    if (running.length !== size) throw new Error(`RabbitMQ cluster has ${running.length} running nodes, expected ${size}: ${status}`);
    // wait until every node serves AMQP again after start_app
    for (const m of members) {
      while (!(await reachable('127.0.0.1', m.port))) await new Promise((r) => setTimeout(r, 250));
    }
  } catch (e) {
    killAll();
    process.off('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const version = /RabbitMQ ([\d.]+)/.exec(members[0].output)?.[1] ?? 'unknown';
  return {
    urls: members.map((m) => `amqp://guest:guest@127.0.0.1:${m.port}`),
    pids: members.map((m) => m.pid),
    nodes: members.map((m) => m.node),
    version,
    ctl: (i, ...args) => ctl(members[i], ...args),
    async stop() {
      await Promise.all(members.map(async (m) => {
        const child = m.child;
        const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
        try {
          process.kill(m.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }, 20_000);
        await exited;
        clearTimeout(timer);
      }));
      process.off('exit', killAll);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
