/**
 * The connections' shared deadlines: each fires once at its time, in time order, a new
 * deadline replaces the connection's previous one, and a cleared one never fires.
 */
import { describe, expect, it } from 'vitest';
import { deadlines, type Expiring } from '../../../src/frontend/index.js';

class Waiter implements Expiring {
  deadlineToken = 0;
  readonly fired: number[] = [];
  constructor(readonly name: string, readonly log: string[]) {}
  deadlinePassed(): void {
    this.fired.push(Date.now());
    this.log.push(this.name);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('deadlines', () => {
  it('fire in time order, once each, not before their time', async () => {
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((n) => new Waiter(n, log));
    const start = Date.now();
    deadlines.set(c!, start + 60);
    deadlines.set(a!, start + 20);
    deadlines.set(b!, start + 40);
    await sleep(100);
    expect(log).toEqual(['a', 'b', 'c']);
    expect(a!.fired[0]! - start).toBeGreaterThanOrEqual(20);
    expect(c!.fired[0]! - start).toBeGreaterThanOrEqual(60);
  });

  it('a new deadline replaces the old one; a cleared one never fires', async () => {
    const log: string[] = [];
    const moved = new Waiter('moved', log);
    const cleared = new Waiter('cleared', log);
    const start = Date.now();
    deadlines.set(moved, start + 20);
    deadlines.set(moved, start + 60);
    deadlines.set(cleared, start + 30);
    deadlines.clear(cleared);
    // a late tick (a loaded machine) fires everything due at once: wait for 'moved', then look
    for (let i = 0; i < 100 && log.length === 0; i++) await sleep(10);
    await sleep(50);
    expect(log).toEqual(['moved']);
    expect(moved.fired[0]! - start).toBeGreaterThanOrEqual(60);
  });

  it('a deadline set from inside deadlinePassed (a keep-alive re-arming) fires again', async () => {
    const log: string[] = [];
    const keepAlive = new (class extends Waiter {
      override deadlinePassed(): void {
        super.deadlinePassed();
        if (this.fired.length < 3) deadlines.set(this, Date.now() + 10);
      }
    })('k', log);
    deadlines.set(keepAlive, Date.now() + 10);
    // each re-arms 10 ms after the last fired; wait for the chain, with room for a loaded machine
    for (let i = 0; i < 50 && log.length < 3; i++) await sleep(20);
    await sleep(30);
    expect(log).toEqual(['k', 'k', 'k']);
  });
});
