/**
 * fast-check settings shared by the fuzz suites.
 *
 * A bounded pass: a small number of runs per property (WARREN_FUZZ_RUNS, default below), with
 * the seed of test/helpers/fuzz-seed.ts (fixed and printed in CI, random and printed
 * elsewhere, WARREN_FUZZ_SEED replays). `bench/fuzz-long.mjs` runs the same files for a long
 * time with random seeds (WARREN_FUZZ_SEED=random, WARREN_FUZZ_RUNS large). On failure
 * fast-check prints the seed, the path and the shrunk counterexample; the long runner also
 * appends them to its findings file (WARREN_FUZZ_FINDINGS).
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { FUZZ_SEED } from '../helpers/fuzz-seed.js';

const runs = Number(process.env.WARREN_FUZZ_RUNS ?? '');
/** runs per property; the live-broker suites scale this down (each run is a socket or request) */
export const FUZZ_RUNS = Number.isFinite(runs) && runs > 0 ? runs : 200;

export { FUZZ_SEED };

/** Parameters for fc.assert: seed, runs (scaled), and a report of the failure into the findings file. */
export function params<T>(name: string, scale = 1): fc.Parameters<T> {
  return {
    seed: FUZZ_SEED,
    numRuns: Math.max(1, Math.round(FUZZ_RUNS * scale)),
    reporter(details) {
      if (!details.failed) return;
      const report = fc.defaultReportMessage(details) ?? `failed (seed ${details.seed})`;
      const file = process.env.WARREN_FUZZ_FINDINGS;
      if (file) appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), property: name, seed: details.seed, path: details.counterexamplePath, counterexample: safeString(details.counterexample), error: String(details.errorInstance) })}\n`);
      throw new Error(`${name}: ${report}\nerror: ${details.errorInstance instanceof Error ? details.errorInstance.stack : String(details.errorInstance)}`);
    },
  };
}

function safeString(v: unknown): string {
  try {
    return fc.stringify(v);
  } catch {
    return String(v);
  }
}

/** Byte-level mutations of a valid input: bit flips, random bytes, truncations, splices, extreme length fields. */
export function mutated(valid: fc.Arbitrary<Buffer>, lengthOffsets: (b: Buffer) => { at: number; width: 1 | 2 | 4 }[] = () => []): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), from: fc.nat(), len: fc.nat(64) }),
    fc.record({ kind: fc.constant('length' as const), which: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff) }),
  );
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([buf, edits]) => {
    let out = Buffer.from(buf);
    for (const e of edits) {
      if (out.length === 0) break;
      switch (e.kind) {
        case 'flip':
          out[e.at % out.length] ^= 1 << e.bit;
          break;
        case 'byte':
          out[e.at % out.length] = e.value;
          break;
        case 'truncate':
          out = out.subarray(0, e.at % out.length);
          break;
        case 'splice': {
          const at = e.at % out.length;
          const from = e.from % out.length;
          out = Buffer.concat([out.subarray(0, at), out.subarray(from, from + e.len), out.subarray(at)]);
          break;
        }
        case 'length': {
          const fields = lengthOffsets(out).filter((f) => f.at + f.width <= out.length);
          if (fields.length === 0) break;
          const f = fields[e.which % fields.length];
          const max = f.width === 1 ? 0xff : f.width === 2 ? 0xffff : 0xffffffff;
          out.writeUIntBE(Math.min(e.value, max), f.at, f.width);
          break;
        }
      }
    }
    return out;
  });
}

/** Cut a buffer into chunks at the given (arbitrary) boundaries. */
export function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (buf.length === 0 ? 0 : c % buf.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < buf.length) out.push(buf.subarray(prev));
  return out;
}
