/**
 * Power cuts, thousands per run (the simulation is in power-cut-sim.ts; docs/reliability.md
 * "Power cuts"). The seed is printed; WARREN_SIM_SEED=<seed> replays a run exactly, and
 * WARREN_SIM_CUTS sets how many cuts (`npm run sim -- --cuts N --seed S` for long runs),
 * WARREN_SIM_SKIP=rpc,ttl0 leaves publish paths out.
 */
import { describe, expect, it } from 'vitest';
import { seedFrom } from '../helpers/prng.js';
import { runSimulation } from './power-cut-sim.js';

const CUTS = Number(process.env.WARREN_SIM_CUTS ?? 2000);
const SEED = seedFrom('WARREN_SIM_SEED');
const SKIP = (process.env.WARREN_SIM_SKIP ?? '').split(',').filter(Boolean);

describe('power cuts on the simulated disk', () => {
  it(`loses nothing confirmed, keeps per-queue order, duplicates only unacked-at-cut (${CUTS} cuts, seed ${SEED})`, async () => {
    const r = await runSimulation({ seed: SEED, cuts: CUTS, skip: SKIP });
    const line = `cuts=${r.cuts} confirmed=${r.confirmed} lost=${r.lost} duplicated=${r.duplicated} reordered=${r.reordered} elided=${r.elided} seed=${r.seed} ms=${r.millis}`;
    console.log(line);
    if (r.problems.length > 0) console.log(`replay: WARREN_SIM_SEED=${r.seed} WARREN_SIM_CUTS=${CUTS} npx vitest run test/durability/power-cut.test.ts\n${r.problems.slice(0, 20).join('\n')}`);
    expect(r.problems).toEqual([]);
    expect(r.cuts).toBe(CUTS);
    expect(r.confirmed).toBeGreaterThan(CUTS); // the run really confirmed things before its cuts
    expect(r.elided).toBeGreaterThan(0); // and left records consumed before their write out of the journal
  }, Math.max(600_000, CUTS * 500));
});
