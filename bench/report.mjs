/**
 * Re-renders the comparison table from JSON lines saved by
 * `bench/run.mjs --out` (or a scenario's stdout), e.g. to combine runs:
 *
 *   node bench/report.mjs [--baseline rabbitmq] results/a.jsonl results/b.jsonl
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { comparisonTable } from './lib/table.mjs';

const { values, positionals } = parseArgs({ options: { baseline: { type: 'string' } }, allowPositionals: true });
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/report.mjs [--baseline label] file.jsonl...\n');
  process.exit(2);
}
const records = positionals
  .flatMap((file) => readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('{')))
  .map((line) => JSON.parse(line))
  .map((result) => ({ scenario: String(result.scenario), label: String(result.label), result }));
const scenarios = [...new Set(records.map((r) => r.scenario))];
const labels = [...new Set(records.map((r) => r.label))];
const baseline = values.baseline ?? (labels.includes('rabbitmq') ? 'rabbitmq' : labels[0]);
process.stdout.write(`${comparisonTable(records, scenarios, labels, baseline)}\n`);
