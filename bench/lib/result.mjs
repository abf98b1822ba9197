import { redactUrl } from './connect.mjs';
import { round2 } from './cpu-sampler.mjs';
import { LatencyHistogram } from './histogram.mjs';

/**
 * Turns a finished run into the one JSON line a scenario prints, and decides
 * whether the run is `ok`: every published message consumed exactly once per
 * expected copy, in order, routed where it should be, confirmed (with
 * confirms), and nothing left in the queues.
 *
 * @param {any} run a ScenarioRun (see coordinator.mjs)
 * @param {import('./coordinator.mjs').ScenarioPlan | null} plan
 */
export function buildResult(run, plan) {
  const { options, scenario } = run;
  /** @type {import('./coordinator.mjs').RoleHandle[]} */
  const roles = run.roles;
  const publisher = roles.find((r) => r.kind === 'publisher');
  const consumers = roles.filter((r) => r.kind === 'consumer');
  const seconds = run.stopAt > run.measureAt ? (run.stopAt - run.measureAt) / 1000 : 0;
  const errors = [...run.errors];

  const latency = new LatencyHistogram();
  let consumedMeasured = 0;
  let outOfOrder = 0;
  let redelivered = 0;
  let misrouted = 0;
  /** @type {Map<number, number>} CPU per consumer process: in split mode several consumers share one */
  const consumerCpuByPid = new Map();
  for (const c of consumers) {
    if (!c.stats) continue;
    latency.merge(LatencyHistogram.fromWire(c.stats.histogram));
    consumedMeasured += c.stats.consumedMeasured;
    outOfOrder += c.stats.outOfOrder;
    redelivered += c.stats.redelivered;
    misrouted += c.stats.misrouted;
    consumerCpuByPid.set(c.stats.pid, Math.max(consumerCpuByPid.get(c.stats.pid) ?? 0, c.stats.cpuMicros));
  }
  const consumerCpuMicros = [...consumerCpuByPid.values()].reduce((a, b) => a + b, 0);
  const consumed = run.totalConsumed();
  const pubStats = publisher?.stats ?? null;
  const published = pubStats?.published ?? publisher?.published ?? 0;
  const expected = published * run.copies;
  const lost = Math.max(0, expected - consumed);
  const duplicates = Math.max(0, consumed - expected);
  const leftoverValues = Object.values(run.leftover);
  const leftover = !plan || leftoverValues.some((v) => v === null) ? null : leftoverValues.reduce((a, b) => a + b, 0);

  const perSecond = (/** @type {number} */ n) => (seconds > 0 ? Math.round(n / seconds) : 0);
  /** @type {Record<string, any>} */
  const result = {
    scenario: scenario.name,
    label: options.label,
    broker: redactUrl(options.url),
    mode: options.mode,
    seconds: Math.round(seconds * 1000) / 1000,
    size: options.size,
    window: options.window,
    prefetch: options.prefetch,
    rate: options.rate,
    msgs_per_s: perSecond(consumedMeasured),
    published_per_s: perSecond(pubStats?.publishedMeasured ?? 0),
    latency_ms: latency.summary(),
    published,
    consumed,
    expected_deliveries: expected,
    lost,
    duplicates,
    out_of_order: outOfOrder,
    redelivered,
    misrouted,
    leftover_in_queues: leftover,
    ...(plan?.fields ?? {}),
  };

  if (plan?.publisher.confirm && pubStats) {
    const unconfirmed = pubStats.published - pubStats.confirmed - pubStats.nacked;
    result.confirms = {
      confirmed_per_s: perSecond(pubStats.confirmedMeasured),
      confirmed: pubStats.confirmed,
      nacked: pubStats.nacked,
      unconfirmed,
      latency_ms: LatencyHistogram.fromWire(pubStats.confirmHistogram).summary(),
    };
    if (pubStats.nacked > 0) errors.push(`broker nacked ${pubStats.nacked} messages`);
    if (unconfirmed > 0) errors.push(`${unconfirmed} messages never confirmed`);
  }
  if (plan && scenario.addFields) scenario.addFields(result, plan);

  const toCores = (/** @type {number} */ micros) => (seconds > 0 ? round2(micros / 1e6 / seconds) : null);
  result.cpu_cores = {
    host_busy: run.cpu.host_busy_cores ?? null,
    broker: run.cpu.broker_cores ?? null,
    ...(options.mode !== 'inline'
      ? { publisher: toCores(pubStats?.cpuMicros ?? 0), consumers: toCores(consumerCpuMicros), coordinator: toCores(run.cpu.coordinatorMicros ?? 0) }
      : { generator: toCores(run.cpu.coordinatorMicros ?? 0) }),
    of: run.cpu.cores ?? null,
  };
  // What the broker and the generator do not explain: other processes on the machine.
  const generator = options.mode !== 'inline'
    ? (result.cpu_cores.publisher ?? 0) + (result.cpu_cores.consumers ?? 0) + (result.cpu_cores.coordinator ?? 0)
    : result.cpu_cores.generator;
  result.cpu_cores.other = result.cpu_cores.host_busy !== null && result.cpu_cores.broker !== null && generator !== null
    ? round2(Math.max(0, result.cpu_cores.host_busy - result.cpu_cores.broker - generator))
    : null;
  // Throughput per core the broker burnt: on a 2-core machine whose cores the
  // generator shares, this compares brokers better than msg/s alone.
  result.msgs_per_broker_cpu_s = result.cpu_cores.broker ? Math.round(result.msgs_per_s / result.cpu_cores.broker) : null;
  result.blocked_events = pubStats?.blockedEvents ?? 0;
  if (latency.negative > 0) result.clock_skew_samples = latency.negative;

  if (plan && errors.length === 0) {
    if (lost > 0) errors.push(`lost ${lost} of ${expected} deliveries (consumed ${consumed})`);
    if (duplicates > 0) errors.push(`${duplicates} deliveries more than expected (${consumed} of ${expected})`);
    if (outOfOrder > 0) errors.push(`${outOfOrder} deliveries out of publish order`);
    if (misrouted > 0) errors.push(`${misrouted} deliveries reached a queue whose bindings do not match their key`);
    if (leftover !== null && leftover > 0) errors.push(`${leftover} messages left unconsumed in the queues`);
    if (consumedMeasured === 0) errors.push('nothing was consumed during the measured interval');
  }
  result.ok = errors.length === 0;
  if (errors.length > 0) result.errors = errors;
  return result;
}
