#!/usr/bin/env node
/**
 * Long fuzzing: the property-based suites of test/fuzz (codecs, live protocol listeners,
 * management API) run again and again with random seeds and many runs per property, for
 * --minutes. Each failing property appends one JSON line to the findings file (property,
 * seed, fast-check path, shrunk counterexample, error); replay one with
 *   WARREN_FUZZ_SEED=<seed> npx vitest run test/fuzz/<file>
 * and turn it into a regression test with the exact counterexample.
 *
 *   node bench/fuzz-long.mjs --minutes 60 [--runs 5000] [--findings fuzz-findings.jsonl] [--only codec]
 *
 * --only filters the files by a substring of their name (codec, live, management, amqp …).
 * Exit code 1 when anything was found.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    runs: { type: 'string', default: '5000' },
    findings: { type: 'string', default: 'fuzz-findings.jsonl' },
    only: { type: 'string' },
  },
});
const findings = resolve(args.findings);
const files = readdirSync(join(REPO, 'test', 'fuzz'))
  .filter((f) => f.endsWith('.test.ts') && (!args.only || f.includes(args.only)))
  .map((f) => join('test', 'fuzz', f));
if (files.length === 0) throw new Error(`no fuzz file matches --only ${args.only}`);

const lines = () => (existsSync(findings) ? readFileSync(findings, 'utf8').split('\n').filter(Boolean).length : 0);
const before = lines();
const deadline = Date.now() + Number(args.minutes) * 60_000;
let rounds = 0;
let failedRounds = 0;
while (Date.now() < deadline) {
  rounds++;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(REPO, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files, '--testTimeout', '600000', '--hookTimeout', '60000'], {
    cwd: REPO,
    env: { ...process.env, WARREN_FUZZ_SEED: 'random', WARREN_FUZZ_RUNS: args.runs, WARREN_FUZZ_FINDINGS: findings },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const summary = /Tests\s+(.*)/.exec(r.stdout.replace(/\x1b\[[0-9;]*m/g, ''))?.[1] ?? '(no summary)';
  if (r.status !== 0) failedRounds++;
  console.log(`round ${rounds}: ${summary.trim()} in ${((Date.now() - t0) / 1000).toFixed(0)} s; findings so far ${lines() - before}`);
}
const found = lines() - before;
console.log(`${rounds} rounds, ${failedRounds} with failures, ${found} new finding(s)${found > 0 ? ` in ${findings}` : ''}`);
process.exit(found > 0 || failedRounds > 0 ? 1 : 0);
