/**
 * The publish gate of the front-end kit on its own: held items come back in arrival order,
 * reading stops once and resumes once, the deadline (one shared timer for every gate) hands
 * what was held to the protocol to fail, and a gate that never holds keeps no queue.
 */
import { describe, expect, it } from 'vitest';
import { PublishGate, type GateOwner } from '../../../src/frontend/index.js';

/** A connection as the gate sees it: it records what the gate asked of it. */
class Recorder implements GateOwner<string> {
  readonly calls: string[] = [];
  handled: string[] = [];
  failed: string[][] = [];
  /** handleHeld answers false from this item on (the connection closed) */
  closeAt: string | null = null;
  /** what heldTooLong answers */
  readAgainAfterDeadline = false;

  setReading(reading: boolean): void {
    this.calls.push(reading ? 'resume' : 'pause');
  }

  handleHeld(item: string): boolean {
    if (item === this.closeAt) return false;
    this.handled.push(item);
    return true;
  }

  heldTooLong(items: string[]): boolean {
    this.failed.push(items);
    return this.readAgainAfterDeadline;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PublishGate', () => {
  it('holds in arrival order, pauses reading once, and releases everything before reading again', () => {
    const owner = new Recorder();
    const gate = new PublishGate(owner);
    expect(gate.holding).toBe(false);
    gate.hold('a', 0);
    gate.hold('b', 0);
    gate.hold('c', 0);
    expect(gate.holding).toBe(true);
    expect(gate.paused).toBe(true);
    expect(owner.calls).toEqual(['pause']);
    gate.release();
    expect(owner.handled).toEqual(['a', 'b', 'c']);
    expect(owner.calls).toEqual(['pause', 'resume']);
    expect(gate.holding).toBe(false);
    gate.release(); // not paused: nothing to do
    expect(owner.calls).toEqual(['pause', 'resume']);
  });

  it('stops releasing when the connection closes meanwhile, and does not read again', () => {
    const owner = new Recorder();
    owner.closeAt = 'b';
    const gate = new PublishGate(owner);
    for (const item of ['a', 'b', 'c']) gate.hold(item, 0);
    gate.release();
    expect(owner.handled).toEqual(['a']);
    expect(owner.calls).toEqual(['pause']);
  });

  it('fails what was held past the deadline, and stays paused until the alarm clears unless the protocol reads again', async () => {
    const staying = new Recorder();
    const reading = new Recorder();
    reading.readAgainAfterDeadline = true;
    const a = new PublishGate(staying);
    const b = new PublishGate(reading);
    a.hold('a1', 40);
    b.hold('b1', 20);
    a.hold('a2', 40); // the deadline is the first item's
    await sleep(80);
    expect(staying.failed).toEqual([['a1', 'a2']]);
    expect(reading.failed).toEqual([['b1']]);
    expect(a.holding).toBe(false);
    expect(a.paused).toBe(true);
    expect(staying.calls).toEqual(['pause']);
    expect(b.paused).toBe(false);
    expect(reading.calls).toEqual(['pause', 'resume']);
    // the alarm clears later: nothing is left to hand back, reading resumes
    a.release();
    expect(staying.handled).toEqual([]);
    expect(staying.calls).toEqual(['pause', 'resume']);
  });

  it('a release before the deadline cancels it; a dropped gate is never failed', async () => {
    const released = new Recorder();
    const dropped = new Recorder();
    const a = new PublishGate(released);
    const b = new PublishGate(dropped);
    a.hold('x', 20);
    b.hold('y', 20);
    a.release();
    b.drop();
    await sleep(50);
    expect(released.failed).toEqual([]);
    expect(dropped.failed).toEqual([]);
    expect(released.handled).toEqual(['x']);
  });
});
