/**
 * The comparison table printed by bench/run.mjs: one block of rows per
 * scenario, one column per broker, and a ratio column (target ÷ baseline)
 * for every broker other than the baseline. Markdown, so it pastes into
 * docs/performance.md as is. With --repeat, cells are medians.
 */

/** @typedef {{ label: string, scenario: string, result: Record<string, any> }} RunRecord */

/**
 * Rows shown for every scenario (a row is left out when no broker has a value).
 * @type {{ name: string, pick: (r: Record<string, any>) => number | null | undefined, decimals: number, noRatio?: boolean }[]}
 */
const METRICS = [
  { name: 'consumed msg/s', pick: (r) => r.msgs_per_s, decimals: 0 },
  { name: 'published msg/s', pick: (r) => r.published_per_s, decimals: 0 },
  { name: 'latency p50 ms', pick: (r) => r.latency_ms?.p50, decimals: 2 },
  { name: 'latency p95 ms', pick: (r) => r.latency_ms?.p95, decimals: 2 },
  { name: 'latency p99 ms', pick: (r) => r.latency_ms?.p99, decimals: 2 },
  { name: 'confirm p50 ms', pick: (r) => r.confirms?.latency_ms?.p50, decimals: 2 },
  { name: 'confirm p99 ms', pick: (r) => r.confirms?.latency_ms?.p99, decimals: 2 },
  { name: 'broker CPU cores', pick: (r) => r.cpu_cores?.broker, decimals: 2 },
  { name: 'consumed msg per broker CPU-second', pick: (r) => r.msgs_per_broker_cpu_s, decimals: 0 },
  // Accounting rows: they say whether a run was trustworthy, a ratio of them means nothing.
  { name: 'generator CPU cores', pick: (r) => generatorCores(r.cpu_cores), decimals: 2, noRatio: true },
  { name: 'host busy cores', pick: (r) => r.cpu_cores?.host_busy, decimals: 2, noRatio: true },
  { name: 'other processes CPU cores', pick: (r) => r.cpu_cores?.other, decimals: 2, noRatio: true },
];

/**
 * CPU used by the load generator itself: one process inline, the sum of its
 * processes when forked.
 * @param {Record<string, number | null> | undefined} cpu
 * @returns {number | null}
 */
function generatorCores(cpu) {
  if (!cpu) return null;
  if (typeof cpu.generator === 'number') return cpu.generator;
  const parts = [cpu.publisher, cpu.consumers, cpu.coordinator].filter((v) => typeof v === 'number');
  return parts.length === 0 ? null : /** @type {number[]} */ (parts).reduce((a, b) => a + b, 0);
}

/**
 * @param {RunRecord[]} records
 * @param {string[]} scenarios in run order
 * @param {string[]} labels in run order
 * @param {string} baseline
 * @returns {string}
 */
export function comparisonTable(records, scenarios, labels, baseline) {
  const others = labels.filter((l) => l !== baseline);
  const ratioHeaders = labels.includes(baseline) ? others.map((l) => `${l} ÷ ${baseline}`) : [];
  const header = ['scenario', 'metric', ...labels, ...ratioHeaders];
  const lines = [row(header), row(header.map((_, i) => (i < 2 ? '---' : '---:')))];
  /** @type {string[]} */
  const notes = [];

  for (const scenario of scenarios) {
    /** @type {Map<string, Record<string, any>[]>} */
    const okByLabel = new Map();
    for (const label of labels) {
      const runs = records.filter((r) => r.scenario === scenario && r.label === label);
      okByLabel.set(label, runs.filter((r) => r.result.ok).map((r) => r.result));
      for (const failed of runs.filter((r) => !r.result.ok)) {
        notes.push(`- ${scenario} on ${label} FAILED: ${(failed.result.errors ?? ['no result']).join('; ')}`);
      }
    }
    let first = true;
    for (const metric of METRICS) {
      /** @type {Map<string, number | null>} */
      const values = new Map();
      for (const label of labels) values.set(label, median(/** @type {Record<string, any>[]} */ (okByLabel.get(label)).map(metric.pick)));
      if ([...values.values()].every((v) => v === null)) continue;
      const cells = labels.map((label) => {
        const v = values.get(label) ?? null;
        if (v !== null) return format(v, metric.decimals);
        return /** @type {Record<string, any>[]} */ (okByLabel.get(label)).length === 0 ? 'FAILED' : '–';
      });
      const base = values.get(baseline) ?? null;
      const ratios = ratioHeaders.length === 0 ? [] : others.map((label) => {
        const v = values.get(label) ?? null;
        return metric.noRatio || v === null || base === null || base === 0 ? '–' : (v / base).toFixed(2);
      });
      lines.push(row([first ? scenario : '', metric.name, ...cells, ...ratios]));
      first = false;
    }
    if (first) lines.push(row([scenario, 'consumed msg/s', ...labels.map(() => 'FAILED'), ...ratioHeaders.map(() => '–')]));
  }
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

/** @param {string[]} cells */
function row(cells) {
  return `| ${cells.join(' | ')} |`;
}

/** @param {(number | null | undefined)[]} values @returns {number | null} */
export function median(values) {
  const present = /** @type {number[]} */ (values.filter((v) => typeof v === 'number')).sort((a, b) => a - b);
  if (present.length === 0) return null;
  const mid = Math.floor(present.length / 2);
  return present.length % 2 === 1 ? present[mid] : (present[mid - 1] + present[mid]) / 2;
}

/** @param {number} value @param {number} decimals */
function format(value, decimals) {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
