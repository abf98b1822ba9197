/**
 * The connections' shared deadlines: each fires once at its time, in time order, a new
 * deadline replaces the connection's previous one, a cleared one never fires, and bytes that
 * were already waiting in a socket when the deadline passed are read before it is judged.
 */
import { createServer, connect, type Socket } from 'node:net';
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

  it('are judged after the reads that were waiting when they passed (a CONNECT unread while the loop was behind)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    const conn = await accepted;
    try {
      const log: string[] = [];
      const w = new Waiter('silent', log);
      // the client's first bytes answer the deadline, as a CONNECT answers the connect timeout
      conn.on('data', () => deadlines.set(w, Date.now() + 60_000));
      deadlines.set(w, Date.now() + 30);
      client.write('CONNECT');
      // the event loop is behind: the bytes arrive and the deadline passes while it is busy
      const until = Date.now() + 150;
      while (Date.now() < until);
      await sleep(100);
      expect(log).toEqual([]);
      deadlines.clear(w);
    } finally {
      client.destroy();
      conn.destroy();
      server.close();
    }
  });
});
