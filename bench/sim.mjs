#!/usr/bin/env node
/**
 * The long power-cut simulation: test/durability/power-cut.test.ts with many cuts.
 *
 *   npm run sim -- --cuts 20000 [--seed S] [--skip rpc,ttl0]
 *
 * Prints the test's output, writes one JSON line to bench/results/sim-<date>.jsonl, and ends
 * with the ledger line: `cuts=N confirmed=C lost=L duplicated=D reordered=R seed=S ms=…`.
 * A failing run names its seed; the same command with that --seed replays it exactly.
 * Exit code 1 on any failure.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    cuts: { type: 'string', default: '20000' },
    seed: { type: 'string' },
    skip: { type: 'string', default: '' },
  },
});
const seed = args.seed ?? String((Math.random() * 2 ** 32) >>> 0);
const started = new Date();
const run = spawnSync('npx', ['vitest', 'run', 'test/durability/power-cut.test.ts'], {
  cwd: REPO,
  env: { ...process.env, WARREN_SIM_CUTS: args.cuts, WARREN_SIM_SEED: seed, WARREN_SIM_SKIP: args.skip },
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
const out = `${run.stdout}${run.stderr}`;
process.stdout.write(out);
// eslint-disable-next-line no-control-regex
const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
const line = plain.split('\n').find((l) => l.startsWith('cuts='));
if (!line) {
  console.error('no ledger line in the output');
  process.exit(1);
}
const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
const dir = join(REPO, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const record = {
  bench: 'sim',
  time: started.toISOString(),
  command: `npm run sim -- --cuts ${args.cuts} --seed ${seed}${args.skip ? ` --skip ${args.skip}` : ''}`,
  ...fields,
  passed: run.status === 0,
  loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  node: process.version,
};
appendFileSync(join(dir, `sim-${started.toISOString().slice(0, 10)}.jsonl`), `${JSON.stringify(record)}\n`);
console.log(line);
process.exit(run.status === 0 ? 0 : 1);
