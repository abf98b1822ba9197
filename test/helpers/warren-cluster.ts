/**
 * Three (or n) Warren nodes as child processes of the compiled CLI, pointed at an etcd cluster
 * (etcd-cluster.ts): each with its own data directory and free loopback ports (AMQP, MQTT and
 * STOMP over TCP and WebSocket, management, replication), a fixed node id `n<i>`, and per
 * node kill -9, SIGSTOP/SIGCONT, graceful stop and restart.
 *
 * The harness is also the nodes' supervisor: a node that ends by itself (exit 3 when it lost
 * leadership or its lease, as the design wants) is started again as a standby after
 * `restartDelayMs`, as systemd would; a node the test killed stays down until `restart(i)`.
 *
 * Used by test/cluster/*.test.ts (cliPath: the per-run build, inject('buildDir')) and by
 * bench/jepsen.mjs (cliPath: dist/src/cli.js).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePorts, until } from './free-port.js';

export interface NodePorts {
  amqp: number;
  mqtt: number;
  mqttWs: number;
  stomp: number;
  stompWs: number;
  management: number;
  replication: number;
  /** the Kafka listener's port (listening only with `kafka: true`) */
  kafka: number;
}

export interface WarrenNode {
  index: number;
  id: string;
  dataDir: string;
  ports: NodePorts;
  child: ChildProcess | null;
  /** the last 40 kB it wrote (log lines) */
  output: string;
  /** how each run ended: code or signal */
  exits: { code: number | null; signal: NodeJS.Signals | null; at: number }[];
  /** the test took it down (kill/stop): do not restart it automatically */
  held: boolean;
  starts: number;
}

export interface WarrenClusterOptions {
  cliPath: string;
  etcdEndpoints: string[];
  size?: number;
  /** cluster.lease_ttl; short in tests so failovers take seconds */
  leaseTtl?: string;
  watchdogTimeout?: string;
  minIsr?: number;
  /** more WARREN_* variables for every node */
  env?: Record<string, string>;
  restartDelayMs?: number;
  /** cluster.name: unique per harness, so runs never share etcd keys */
  name?: string;
  /** start the Kafka plugin on every node (off otherwise) */
  kafka?: boolean;
}

export class WarrenCluster {
  readonly nodes: WarrenNode[] = [];
  readonly name: string;
  readonly #o: Required<Omit<WarrenClusterOptions, 'env'>> & { env: Record<string, string> };
  readonly #root: string;
  readonly #etcd: Etcd3;
  #closed = false;

  private constructor(o: WarrenClusterOptions) {
    this.name = o.name ?? `test${process.pid}x${Date.now().toString(36)}`;
    this.#o = { size: 3, leaseTtl: '4s', watchdogTimeout: '6s', minIsr: 2, env: {}, restartDelayMs: 300, kafka: false, ...o, name: this.name };
    this.#root = mkdtempSync(join(tmpdir(), 'warren-cluster-'));
    this.#etcd = new Etcd3({ hosts: o.etcdEndpoints, dialTimeout: 2000 });
  }

  /** Start every node; resolves once one of them leads and serves. */
  static async start(o: WarrenClusterOptions): Promise<WarrenCluster> {
    const cluster = new WarrenCluster(o);
    try {
      // every node's ports from one draw, so no two nodes are given the same one
      const all = await freePorts(8 * cluster.#o.size);
      for (let i = 0; i < cluster.#o.size; i++) {
        const [amqp, mqtt, mqttWs, stomp, stompWs, management, replication, kafka] = all.slice(8 * i, 8 * i + 8);
        cluster.nodes.push({
          index: i, id: `n${i}`, dataDir: join(cluster.#root, `n${i}`),
          ports: { amqp: amqp!, mqtt: mqtt!, mqttWs: mqttWs!, stomp: stomp!, stompWs: stompWs!, management: management!, replication: replication!, kafka: kafka! },
          child: null, output: '', exits: [], held: false, starts: 0,
        });
      }
      for (const n of cluster.nodes) cluster.#spawn(n);
      await cluster.waitForLeader(90_000); // node start-up alone can take tens of seconds on a loaded 2-core machine
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  #env(n: WarrenNode): Record<string, string> {
    const p = n.ports;
    return {
      PATH: process.env.PATH ?? '',
      HOME: this.#root,
      WARREN_DATA_DIR: n.dataDir,
      WARREN_LOG_FORMAT: 'json',
      WARREN_LOG_LEVEL: 'info',
      WARREN_AMQP_HOST: '127.0.0.1', WARREN_AMQP_PORT: String(p.amqp),
      WARREN_MQTT_HOST: '127.0.0.1', WARREN_MQTT_PORT: String(p.mqtt), WARREN_MQTT_WS_PORT: String(p.mqttWs),
      WARREN_STOMP_HOST: '127.0.0.1', WARREN_STOMP_PORT: String(p.stomp), WARREN_STOMP_WS_PORT: String(p.stompWs),
      WARREN_MANAGEMENT_HOST: '127.0.0.1', WARREN_MANAGEMENT_PORT: String(p.management),
      ...(this.#o.kafka ? { WARREN_KAFKA_HOST: '127.0.0.1', WARREN_KAFKA_PORT: String(p.kafka) } : { WARREN_PLUGINS_KAFKA_ENABLED: 'false' }),
      WARREN_CLUSTER_ETCD_ENDPOINTS: this.#o.etcdEndpoints.join(','),
      WARREN_CLUSTER_NAME: this.name,
      WARREN_CLUSTER_NODE_ID: n.id,
      WARREN_CLUSTER_ADVERTISED_ADDRESS: '127.0.0.1',
      WARREN_CLUSTER_REPLICATION_PORT: String(p.replication),
      WARREN_CLUSTER_LEASE_TTL: this.#o.leaseTtl,
      WARREN_CLUSTER_WATCHDOG_TIMEOUT: this.#o.watchdogTimeout,
      WARREN_CLUSTER_MIN_ISR: String(this.#o.minIsr),
      WARREN_AUTH_FAILURE_DELAY: '0',
      ...this.#o.env,
    };
  }

  #spawn(n: WarrenNode): void {
    const child = spawn(process.execPath, [this.#o.cliPath, 'start'], { cwd: this.#root, env: this.#env(n), stdio: ['ignore', 'pipe', 'pipe'] });
    n.child = child;
    n.held = false;
    n.starts++;
    const keep = (d: Buffer) => {
      n.output = (n.output + d.toString()).slice(-40_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', (code, signal) => {
      n.exits.push({ code, signal, at: Date.now() });
      if (n.child === child) n.child = null;
      // The supervisor's part: a node that ended by itself comes back as a standby.
      if (!n.held && !this.#closed) setTimeout(() => {
        if (!n.held && !this.#closed && n.child === null) this.#spawn(n);
      }, this.#o.restartDelayMs);
    });
  }

  /** The leader as etcd names it: its node, and the epoch (the leader key's create_revision). */
  async leader(): Promise<{ node: WarrenNode; epoch: number } | null> {
    const res = await this.#etcd.get(`/warren/${this.name}/groups/main/leader`).exec();
    const kv = res.kvs[0];
    if (!kv) return null;
    const id = (JSON.parse(kv.value.toString()) as { id: string }).id;
    const node = this.nodes.find((n) => n.id === id);
    return node ? { node, epoch: Number(kv.create_revision) } : null;
  }

  /** The in-sync set as etcd holds it (the leader included), or null before the first leader wrote it. */
  async isr(): Promise<{ epoch: number; members: string[] } | null> {
    const text = await this.#etcd.get(`/warren/${this.name}/groups/main/isr`).string();
    return text ? (JSON.parse(text) as { epoch: number; members: string[] }) : null;
  }

  /** Wait until every node runs, one leads, and all of them are in its ISR (under its epoch). */
  async waitWhole(what: string, timeoutMs = 90_000): Promise<void> {
    await until(() => `${what}: every node running, a leader, all in the ISR\n${this.outputs()}`, async () => {
      if (this.nodes.some((n) => !this.isRunning(n.index))) return false;
      const l = await this.leader();
      const isr = await this.isr();
      return l !== null && isr?.epoch === l.epoch && isr.members.length === this.nodes.length;
    }, timeoutMs, 200);
  }

  /** Wait until a node leads and has registered as leader (its broker serves), other than `not`. */
  async waitForLeader(timeoutMs = 30_000, not?: { epoch: number }): Promise<{ node: WarrenNode; epoch: number }> {
    return until(() => `a cluster leader${not ? ` after epoch ${not.epoch}` : ''}\n${this.outputs()}`, async () => {
      const l = await this.leader();
      if (!l || (not && l.epoch <= not.epoch)) return undefined;
      const reg = await this.#etcd.get(`/warren/${this.name}/nodes/${l.node.id}`).string();
      return reg && (JSON.parse(reg) as { role: string }).role === 'leader' ? l : undefined;
    }, timeoutMs, 100);
  }

  /** Every node's recent output, for a failing test's message. */
  outputs(): string {
    return this.nodes.map((n) => `--- ${n.id} (exits: ${JSON.stringify(n.exits)})\n${n.output.slice(-4000)}`).join('\n');
  }

  amqpUrl(i: number): string {
    return `amqp://guest:guest@127.0.0.1:${this.nodes[i]!.ports.amqp}`;
  }

  /** Send `signal` to node i; SIGKILL/SIGTERM hold it down (no automatic restart) and wait for its exit. */
  async signal(i: number, signal: NodeJS.Signals): Promise<void> {
    const n = this.nodes[i]!;
    const child = n.child;
    if (!child) return;
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      n.held = true;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
    } else {
      child.kill(signal);
    }
  }

  kill(i: number): Promise<void> {
    return this.signal(i, 'SIGKILL');
  }

  stop(i: number): Promise<void> {
    return this.signal(i, 'SIGTERM');
  }

  pause(i: number): Promise<void> {
    return this.signal(i, 'SIGSTOP');
  }

  resume(i: number): Promise<void> {
    return this.signal(i, 'SIGCONT');
  }

  /** Start node i again (after kill or stop), on its data directory and ports. */
  restart(i: number): void {
    const n = this.nodes[i]!;
    if (n.child) throw new Error(`node ${n.id} is running`);
    this.#spawn(n);
  }

  isRunning(i: number): boolean {
    return this.nodes[i]!.child !== null;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.nodes.map(async (n) => {
      const c = n.child;
      if (!c) return;
      n.held = true;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGCONT');
      c.kill('SIGKILL');
      await exited;
    }));
    this.#etcd.close();
    rmSync(this.#root, { recursive: true, force: true });
  }
}
