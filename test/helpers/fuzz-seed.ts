/**
 * The seed of every randomised (fuzz) test, in one place:
 *
 * - `WARREN_FUZZ_SEED=<number>` replays a run (decimal or 0x…); `WARREN_FUZZ_SEED=random` asks
 *   for a fresh one (bench/fuzz-long.mjs);
 * - otherwise CI (`CI=true`) uses a fixed seed, so a CI run is reproducible, and anywhere else
 *   a random one, so runs on developers' machines explore new inputs.
 *
 * Each test file that uses it prints the seed once, with how to replay it; failures name it too.
 */
const CI_SEED = 0x5eed;

function chooseSeed(): { seed: number; how: string } {
  const env = process.env.WARREN_FUZZ_SEED;
  if (env !== undefined && env !== '' && env !== 'random') {
    const seed = Number(env);
    if (!Number.isSafeInteger(seed)) throw new Error(`WARREN_FUZZ_SEED must be an integer or 'random', not ${JSON.stringify(env)}`);
    return { seed, how: 'from WARREN_FUZZ_SEED' };
  }
  if (env !== 'random' && process.env.CI === 'true') return { seed: CI_SEED, how: 'fixed, CI=true' };
  return { seed: 1 + Math.floor(Math.random() * 0x7ffffffe), how: 'random' };
}

const chosen = chooseSeed();
/** a positive 31-bit integer unless WARREN_FUZZ_SEED says otherwise */
export const FUZZ_SEED = chosen.seed;
console.log(`fuzz seed ${FUZZ_SEED} (${chosen.how}); replay with WARREN_FUZZ_SEED=${FUZZ_SEED}`);
