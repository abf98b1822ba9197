/**
 * src/frontend/bodies-after-writes.ts: the pooled bodies a connection keeps until its socket
 * has written what was queued before their ack. Step 1 (`handed`) needs a flush with no
 * journal-streamed body queued; a consumer fed streamed and pooled bodies in turn may not see
 * one for as long as the flow lasts, so what is kept meanwhile must be bounded.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodiesAfterWrites } from '../../../src/frontend/bodies-after-writes.js';
import { bodyPool } from '../../../src/core/body-pool.js';

let server: Server;
let client: Socket;
let accepted: Socket;
beforeAll(async () => {
  server = createServer();
  const got = new Promise<Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  client = connect(port, '127.0.0.1');
  accepted = await got;
});
afterAll(async () => {
  client.destroy();
  accepted.destroy();
  await new Promise((r) => server.close(r));
});

describe('BodiesAfterWrites', () => {
  it('keeps at most 32 MiB of bodies waiting for a flush that hands them to the socket; the rest go to the GC', () => {
    const bodies = new BodiesAfterWrites(accepted);
    expect(bodies.recycles).toBe(true);
    const fence = { durableLsn: 0 };
    // 100 acked 1 MiB bodies with no flush able to hand them over (a streamed body always queued)
    for (let i = 0; i < 100; i++) bodies.add(bodyPool.take(1024 * 1024), fence, 0);
    expect(bodies.waiting).toBe(32);
    // once handed (and the socket idle), they go back to the pool, and the bound starts over
    const before = bodyPool.stats.recycled + bodyPool.stats.dropped;
    bodies.handed();
    expect(bodyPool.stats.recycled + bodyPool.stats.dropped - before).toBe(32);
    expect(bodies.waiting).toBe(0);
    bodies.add(bodyPool.take(1024 * 1024), fence, 0);
    expect(bodies.waiting).toBe(1);
    bodyPool.clear();
  });
});
