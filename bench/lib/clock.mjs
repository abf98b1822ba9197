/**
 * One clock for every bench process.
 *
 * Latency is measured from the publisher's `publish` call to the consumer's
 * delivery callback, and those may run in different processes. `Date.now()`
 * has 1 ms resolution, which is the same order as the latencies we measure,
 * so we use `performance.timeOrigin + performance.now()`: wall-clock
 * milliseconds since the epoch with sub-microsecond resolution. Each process
 * fixes its `timeOrigin` from the system clock at start-up, so two processes
 * on the same machine agree to within a few microseconds (checked by
 * `bench/check-clock.mjs`).
 */

/** @returns {number} milliseconds since the epoch, fractional */
export function nowMs() {
  return performance.timeOrigin + performance.now();
}
