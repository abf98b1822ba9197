import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nowMs } from './clock.mjs';
import { closeQuietly, openConnection } from './connect.mjs';
import { ConsumerRole } from './consumer.mjs';
import { CpuSampler } from './cpu-sampler.mjs';
import { childChannel, inlineLinkPair } from './link.mjs';
import { PublisherRole, cpuSince } from './publisher.mjs';
import { buildResult } from './result.mjs';

const ROLE_PROCESS = fileURLToPath(new URL('./role-process.mjs', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const FINISH_TIMEOUT_MS = 10_000;
/** After the last expected delivery, wait this long for extra (duplicate) ones. */
const DUPLICATE_GRACE_MS = 200;

/**
 * @typedef {object} ScenarioPlan what a scenario's `declare` returns
 * @property {{ exchange: string, routingKeys: string[], persistent: boolean, confirm: boolean }} publisher
 * @property {{ queue: string, routeCheck: { modulo: number, remainder: number } | null }[]} consumers
 * @property {number} copies        deliveries expected for every published message
 * @property {string[]} queues      deleted at the end
 * @property {string[]} exchanges   deleted at the end
 * @property {Record<string, unknown>} fields scenario-specific fields for the result line
 *
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} description
 * @property {import('./args.mjs').OptionSpecs} [options]  extra options or changed defaults
 * @property {(channel: import('amqplib').Channel, context: { runId: string, options: Record<string, any> }) => Promise<ScenarioPlan>} declare
 * @property {(result: Record<string, any>, plan: ScenarioPlan) => void} [addFields]  scenario fields computed from the result
 *
 * @typedef {object} RoleHandle
 * @property {string} name
 * @property {'publisher' | 'consumer'} kind
 * @property {import('./link.mjs').Link} link
 * @property {import('node:child_process').ChildProcess | null} child
 * @property {'starting' | 'ready' | 'done' | 'failed'} state
 * @property {number} consumed       consumers: last reported count
 * @property {number | null} published publishers: total once stopped
 * @property {any} stats             from the role's `done` message
 *
 * @typedef {{ child: import('node:child_process').ChildProcess, channel: import('./link.mjs').TaggedChannel, roles: RoleHandle[] }} ChildHost
 */

/**
 * Runs one scenario against one broker: declares the topology, starts the
 * publisher and consumers (inline, or in child processes), warms up, measures, stops,
 * drains, checks that every message arrived exactly once, removes the
 * topology and returns the result line. Never throws: failures are in
 * `result.ok` / `result.errors`.
 * @param {Scenario} scenario
 * @param {Record<string, any>} options parsed command-line options
 */
export async function runScenario(scenario, options) {
  const run = new ScenarioRun(scenario, options);
  return run.execute();
}

class ScenarioRun {
  /** @param {Scenario} scenario @param {Record<string, any>} options */
  constructor(scenario, options) {
    this.scenario = scenario;
    this.options = options;
    this.runId = `${process.pid}.${Date.now().toString(36)}`;
    /** @type {string[]} */
    this.errors = [];
    /** @type {RoleHandle[]} */
    this.roles = [];
    /** @type {{ predicate: () => boolean, resolve: () => void, reject: (e: Error) => void }[]} */
    this.waiters = [];
    this.lastCredit = -1;
    this.copies = 1;
    this.measureAt = 0;
    this.stopAt = 0;
    /** @type {Record<string, number | null>} */
    this.cpu = {};
    /** @type {Record<string, number | null>} */
    this.leftover = {};
    /** @type {Map<string, ChildHost>} child processes by group (fork, split) */
    this.processes = new Map();
  }

  async execute() {
    const { scenario, options } = this;
    /** @type {import('amqplib').ChannelModel | null} */
    let setup = null;
    /** @type {ScenarioPlan | null} */
    let plan = null;
    try {
      const connection = await openConnection(options.url, `bench-${scenario.name}-setup`);
      setup = connection;
      connection.on('error', (err) => this.errors.push(`setup connection: ${err.message}`));
      const channel = await connection.createChannel();
      channel.on('error', () => {}); // reported by the operation that failed
      plan = await scenario.declare(channel, { runId: this.runId, options });
      await closeQuietly(channel);
      this.copies = plan.copies;
      await this.measure(plan);
    } catch (err) {
      const message = /** @type {Error} */ (err).message;
      this.fail(plan ? message : `setup: ${message}`);
    } finally {
      await this.stopRoles();
      if (setup && plan) await this.removeTopology(setup, plan);
      await closeQuietly(setup);
    }
    return buildResult(this, plan);
  }

  /** @param {ScenarioPlan} plan */
  async measure(plan) {
    const { options } = this;
    const reportEvery = Math.max(1, Math.min(100, Math.floor(options.window / 4)));
    this.startRole('publisher', 'publisher', {
      url: options.url,
      name: `bench-${this.scenario.name}-publisher`,
      ...plan.publisher,
      size: options.size,
      window: options.window,
      rate: options.rate,
      settleTimeoutMs: options.drainTimeout * 1000,
    });
    plan.consumers.forEach((consumer, i) => {
      this.startRole(`consumer-${i}`, 'consumer', {
        url: options.url,
        name: `bench-${this.scenario.name}-consumer-${i}`,
        queue: consumer.queue,
        routeCheck: consumer.routeCheck,
        prefetch: options.prefetch,
        reportEvery,
      });
    });
    await this.waitFor(() => this.roles.every((r) => r.state === 'ready'), READY_TIMEOUT_MS, 'publisher and consumers to connect');

    const publisher = this.roles[0];
    publisher.link.send({ type: 'go' });
    await this.pause(options.warmup * 1000);

    const sampler = new CpuSampler(options.brokerPid || null);
    const coordinatorCpu = process.cpuUsage();
    this.measureAt = nowMs();
    this.broadcast({ type: 'measure', at: this.measureAt });
    await this.pause(options.seconds * 1000);
    this.stopAt = nowMs();
    this.broadcast({ type: 'stop', at: this.stopAt });
    this.cpu = { ...sampler.finish(), coordinatorMicros: cpuSince(coordinatorCpu) };

    await this.waitFor(() => publisher.published !== null, FINISH_TIMEOUT_MS, 'the publisher to stop');
    const expected = /** @type {number} */ (publisher.published) * this.copies;
    const drained = await this.waitFor(() => this.totalConsumed() >= expected, options.drainTimeout * 1000, null);
    if (drained) await this.pause(DUPLICATE_GRACE_MS);
    await this.waitFor(() => publisher.state === 'done', options.drainTimeout * 1000 + FINISH_TIMEOUT_MS, 'the publisher to settle confirms and close');
    for (const role of this.roles) if (role.kind === 'consumer') role.link.send({ type: 'finish' });
    await this.waitFor(() => this.roles.every((r) => r.state === 'done'), FINISH_TIMEOUT_MS, 'consumers to close');
  }

  /** @param {string} name @param {'publisher' | 'consumer'} kind @param {any} config */
  startRole(name, kind, config) {
    /** @type {RoleHandle} */
    const role = { name, kind, link: /** @type {any} */ (null), child: null, state: 'starting', consumed: 0, published: null, stats: null };
    if (this.options.mode === 'inline') {
      const { coordinatorSide, roleSide } = inlineLinkPair();
      role.link = coordinatorSide;
      role.link.onMessage((m) => this.onRoleMessage(role, m));
      const instance = kind === 'publisher' ? new PublisherRole(config, roleSide) : new ConsumerRole(config, roleSide);
      instance.start().catch((/** @type {Error} */ err) => this.onRoleMessage(role, { type: 'failed', error: `${kind} start: ${err.message}` }));
    } else {
      // fork: a process per role; split: one for the publisher, one for all consumers
      const host = this.childProcessFor(this.options.mode === 'fork' ? name : kind);
      role.child = host.child;
      role.link = host.channel.linkFor(name);
      role.link.onMessage((m) => this.onRoleMessage(role, m));
      role.link.send({ type: 'start', role: kind, config });
      host.roles.push(role);
    }
    this.roles.push(role);
  }

  /**
   * The child process hosting the roles of `group`, forked on first use.
   * @param {string} group
   */
  childProcessFor(group) {
    const existing = this.processes.get(group);
    if (existing) return existing;
    const child = fork(ROLE_PROCESS, [], { stdio: ['ignore', 2, 2, 'ipc'] });
    /** @type {ChildHost} */
    const host = { child, channel: childChannel(child), roles: [] };
    this.processes.set(group, host);
    child.on('error', (err) => this.fail(`${group} process: ${err.message}`));
    child.on('exit', (code, signal) => {
      for (const role of host.roles) {
        role.child = null;
        if (role.state !== 'done' && role.state !== 'failed') this.fail(`${role.name} process exited (code ${code}, signal ${signal}) before finishing`);
      }
      this.notify();
    });
    return host;
  }

  /** @param {RoleHandle} role @param {import('./link.mjs').LinkMessage} message */
  onRoleMessage(role, message) {
    switch (message.type) {
      case 'ready':
        role.state = 'ready';
        break;
      case 'progress':
        role.consumed = /** @type {number} */ (message.consumed);
        this.sendCredit();
        break;
      case 'stopped':
        role.published = /** @type {number} */ (message.published);
        break;
      case 'done':
        role.state = 'done';
        role.stats = message.stats;
        if (role.kind === 'consumer') role.consumed = role.stats.consumed;
        break;
      case 'failed':
        role.state = 'failed';
        this.fail(`${role.name}: ${message.error}`);
        break;
      default:
        break;
    }
    this.notify();
  }

  /** Publisher credit: messages every copy of which has been consumed. */
  sendCredit() {
    const completed = Math.floor(this.totalConsumed() / this.copies);
    if (completed === this.lastCredit) return;
    this.lastCredit = completed;
    this.roles[0]?.link.send({ type: 'credit', completed });
  }

  totalConsumed() {
    let total = 0;
    for (const role of this.roles) if (role.kind === 'consumer') total += role.consumed;
    return total;
  }

  /** @param {import('./link.mjs').LinkMessage} message */
  broadcast(message) {
    for (const role of this.roles) role.link.send(message);
  }

  /** @param {string} reason */
  fail(reason) {
    if (!this.errors.includes(reason)) this.errors.push(reason);
    const error = new Error(reason);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }

  notify() {
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate()) return true;
      w.resolve();
      return false;
    });
  }

  /**
   * Resolves true when `predicate` holds, false on timeout if `what` is null,
   * otherwise rejects on timeout. Rejects as soon as any role fails.
   * @param {() => boolean} predicate @param {number} timeoutMs @param {string | null} what
   * @returns {Promise<boolean>}
   */
  waitFor(predicate, timeoutMs, what) {
    if (this.errors.length > 0) return Promise.reject(new Error(this.errors[0]));
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: () => { clearTimeout(timer); resolve(true); },
        reject: (/** @type {Error} */ e) => { clearTimeout(timer); reject(e); },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        if (what === null) resolve(false);
        else reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sleeps, but wakes with an error as soon as a role fails. @param {number} ms */
  async pause(ms) {
    await this.waitFor(() => false, ms, null);
  }

  /** Ends every role still running: politely, then by killing our own children. */
  async stopRoles() {
    for (const role of this.roles) {
      if (role.state !== 'done' && role.state !== 'failed') role.link.send({ type: role.kind === 'publisher' ? 'stop' : 'finish', at: nowMs() });
    }
    const deadline = Date.now() + 3000;
    while (this.roles.some((r) => r.child !== null) && Date.now() < deadline) await sleep(20);
    for (const role of this.roles) role.child?.kill('SIGKILL');
    if (this.options.mode === 'inline') await sleep(50); // let inline roles close their connections
  }

  /** @param {import('amqplib').ChannelModel} setup @param {ScenarioPlan} plan */
  async removeTopology(setup, plan) {
    for (const queue of plan.queues) {
      // queue.declare passive: how many messages nobody consumed (AMQP 0-9-1 §1.7.2.1)
      this.leftover[queue] = await this.onFreshChannel(setup, async (ch) => (await ch.checkQueue(queue)).messageCount);
      await this.onFreshChannel(setup, (ch) => ch.deleteQueue(queue));
    }
    for (const exchange of plan.exchanges) await this.onFreshChannel(setup, (ch) => ch.deleteExchange(exchange));
  }

  /**
   * A channel per operation, because a failed one (404) closes its channel.
   * @template T
   * @param {import('amqplib').ChannelModel} connection
   * @param {(channel: import('amqplib').Channel) => Promise<T>} operation
   * @returns {Promise<T | null>}
   */
  async onFreshChannel(connection, operation) {
    /** @type {import('amqplib').Channel | null} */
    let channel = null;
    try {
      channel = await connection.createChannel();
      channel.on('error', () => {});
      return await operation(channel);
    } catch (err) {
      this.errors.push(`cleanup: ${/** @type {Error} */ (err).message}`);
      return null;
    } finally {
      await closeQuietly(channel);
    }
  }
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
