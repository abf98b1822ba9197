/**
 * Three etcd members on loopback, for the clustering tests and bench/jepsen.mjs: each on free
 * client and peer ports with its own temporary data directory, started, health-checked,
 * stopped (SIGTERM), killed (SIGKILL) and restarted on the same directory and ports.
 *
 * Raft timing is raised (heartbeat 250 ms, election timeout 2.5 s, etcd's docs advise ~10×
 * the heartbeat) so that CPU contention on a loaded 2-core machine does not set off member
 * elections that have nothing to do with what a test does.
 *
 * `hasEtcd()` follows test/helpers/require-tool.ts: a missing etcd fails the test file when
 * CI=true and skips it elsewhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasExecutable } from './require-tool.js';
import { freePorts, until } from './free-port.js';

export const ETCD = '/usr/bin/etcd';

export function hasEtcd(usedBy: string): boolean {
  return hasExecutable(ETCD, 'etcd-server', usedBy);
}

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  child: ChildProcess | null;
}

export interface EtcdClusterOptions {
  size?: number;
  heartbeatMs?: number;
  electionTimeoutMs?: number;
}

export class EtcdCluster {
  readonly members: EtcdMember[] = [];
  readonly #root: string;
  readonly #options: Required<EtcdClusterOptions>;
  #output = '';

  private constructor(root: string, options: EtcdClusterOptions) {
    this.#root = root;
    this.#options = { size: 3, heartbeatMs: 250, electionTimeoutMs: 2500, ...options };
  }

  /** Starts every member and resolves once each answers /health. */
  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const cluster = new EtcdCluster(mkdtempSync(join(tmpdir(), 'warren-etcd-')), options);
    try {
      await cluster.#startAll();
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  /** The client URLs, as `cluster.etcd_endpoints` takes them. */
  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** What the members wrote (their logs), for a failing test's message. */
  get output(): string {
    return this.#output;
  }

  async #startAll(): Promise<void> {
    const ports = await freePorts(this.#options.size * 2);
    for (let i = 0; i < this.#options.size; i++) {
      this.members.push({
        name: `etcd${i}`,
        clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
        peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
        dataDir: join(this.#root, `etcd${i}`),
        child: null,
      });
    }
    for (let i = 0; i < this.members.length; i++) this.#spawn(i);
    await Promise.all(this.members.map((_, i) => this.waitHealthy(i)));
  }

  #spawn(i: number): void {
    const m = this.members[i]!;
    const initialCluster = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    const child = spawn(ETCD, [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `warren-test-${process.pid}`,
      '--heartbeat-interval', String(this.#options.heartbeatMs),
      '--election-timeout', String(this.#options.electionTimeoutMs),
      '--logger', 'zap',
      '--log-level', 'error',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      this.#output = (this.#output + `[${m.name}] ${d}`).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    m.child = child;
  }

  /** Resolves once member `i` reports itself healthy (it can reach a quorum). */
  async waitHealthy(i: number, timeoutMs = 20_000): Promise<void> {
    const m = this.members[i]!;
    await until(`etcd member ${m.name} healthy (${m.clientUrl})\n${this.#output}`, async () => {
      const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      return body.health === 'true';
    }, timeoutMs, 200);
  }

  /** SIGKILL member `i` (no graceful step down). */
  async kill(i: number): Promise<void> {
    await this.#signal(i, 'SIGKILL');
  }

  /** SIGTERM member `i` and wait for it to exit. */
  async stop(i: number): Promise<void> {
    await this.#signal(i, 'SIGTERM');
  }

  async #signal(i: number, signal: NodeJS.Signals): Promise<void> {
    const child = this.members[i]!.child;
    this.members[i]!.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Start member `i` again on its data directory and ports (after stop or kill). */
  async restart(i: number, waitHealthy = true): Promise<void> {
    if (this.members[i]!.child) await this.kill(i);
    this.#spawn(i);
    if (waitHealthy) await this.waitHealthy(i);
  }

  isRunning(i: number): boolean {
    return this.members[i]!.child !== null;
  }

  /** Kill every member and delete the data directories. */
  async close(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.kill(i)));
    rmSync(this.#root, { recursive: true, force: true });
  }
}
