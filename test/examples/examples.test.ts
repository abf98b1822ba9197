import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../helpers/broker.js';
// @ts-expect-error plain JS example modules, no type declarations
import { produce } from '../../examples/work-queue/producer.mjs';
// @ts-expect-error plain JS example modules
import { startWorker } from '../../examples/work-queue/worker.mjs';
// @ts-expect-error plain JS example modules
import { DEAD_QUEUE } from '../../examples/work-queue/topology.mjs';
// @ts-expect-error plain JS example modules
import { RPC_QUEUE, startServer } from '../../examples/rpc/server.mjs';
// @ts-expect-error plain JS example modules
import { createClient } from '../../examples/rpc/client.mjs';

let broker: Awaited<ReturnType<typeof startBroker>>;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

describe('examples/work-queue', () => {
  it('retries failing jobs with TTL back-off and dead-letters the ones that keep failing', async () => {
    const attempts = new Map<string, number>();
    const done: string[] = [];
    const dead: string[] = [];
    const finished = new Promise<void>((resolve) => {
      const check = () => done.length + dead.length === 6 && resolve();
      startWorker(
        broker.url,
        async (job: { id: string; n: number }, attempt: number) => {
          attempts.set(job.id, attempt);
          if (job.n === 5) throw new Error('always fails');
          if (job.n % 2 === 1 && attempt < 2) throw new Error('fails once');
        },
        {
          retryDelayMs: 50,
          onDone: (j: { id: string }) => {
            done.push(j.id);
            check();
          },
          onDead: (j: { id: string }) => {
            dead.push(j.id);
            check();
          },
        },
      ).then((stop: () => Promise<void>) => finished.then(stop));
    });
    await produce(broker.url, 6, { retryDelayMs: 50 });
    await finished;
    expect(dead).toEqual(['job-5']);
    expect(done.sort()).toEqual(['job-0', 'job-1', 'job-2', 'job-3', 'job-4']);
    expect(attempts.get('job-1')).toBe(2);
    expect(attempts.get('job-5')).toBe(3);
    const conn = await amqp.connect(broker.url);
    const ch = await conn.createChannel();
    const parked = await ch.get(DEAD_QUEUE, { noAck: true });
    expect(parked && parked.properties.messageId).toBe('job-5');
    await conn.close();
  });
});

describe('examples/rpc', () => {
  it('answers calls over direct reply-to and fails fast on an unroutable request', async () => {
    const stopServer = await startServer(broker.url);
    const client = await createClient(broker.url, { timeoutMs: 3000 });
    try {
      const answers = await Promise.all([10, 20, 25].map((n) => client.call(RPC_QUEUE, n)));
      expect(answers).toEqual(['55', '6765', '75025']);
      const t0 = Date.now();
      await expect(client.call('no.such.queue', 1)).rejects.toThrow(/unroutable/);
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await client.close();
      await stopServer();
    }
  });
});
