/**
 * STOMP replay of a stream: SUBSCRIBE to `/amq/queue/<stream>` with an
 * `x-stream-offset` header (as RabbitMQ's STOMP plugin), each MESSAGE carrying its offset;
 * stored offsets for named (and durable) subscriptions. The stream is filled over AMQP, so
 * both protocols replay the same log.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startStompBroker, uniqueName, type RawFrame, type StompTestBroker } from '../plugins/stomp/helpers.js';

let b: StompTestBroker;
beforeAll(async () => {
  b = await startStompBroker({}, { plugins: ['amqp'] });
});
afterAll(() => b?.stop());

async function streamWith(bodies: string[]): Promise<string> {
  const name = uniqueName('stomp-stream');
  const c = await amqp.connect(b.amqpUrl!);
  const ch = await c.createConfirmChannel();
  await ch.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  for (const body of bodies) ch.sendToQueue(name, Buffer.from(body), { headers: { from: 'amqp' } });
  await ch.waitForConfirms();
  await c.close();
  return name;
}

/** The next `n` MESSAGE frames (of subscription `id` only, when given). */
async function messages(c: RawClient, n: number, id?: string): Promise<RawFrame[]> {
  const out: RawFrame[] = [];
  while (out.length < n) {
    const f = await c.next();
    if (f.command === 'ERROR') throw new Error(`ERROR ${f.headers['message']}: ${f.body.toString()}`);
    if (f.command === 'MESSAGE' && (id === undefined || f.headers['subscription'] === id)) out.push(f);
  }
  return out;
}

const offsetsOf = (fs: RawFrame[]) => fs.map((f) => Number(f.headers['x-stream-offset']));

describe('STOMP subscriptions to a stream', () => {
  it('replays from an x-stream-offset, each MESSAGE with its offset, then follows the tail', async () => {
    const name = await streamWith(['a', 'b', 'c', 'd', 'e']);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { id: 's1', destination: `/amq/queue/${name}`, ack: 'client', 'prefetch-count': '10', 'x-stream-offset': 'first' });
    const all = await messages(c, 5);
    expect(all.map((f) => f.body.toString())).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(offsetsOf(all)).toEqual([0, 1, 2, 3, 4]);
    expect(all[0].headers['from']).toBe('amqp');
    c.send('SUBSCRIBE', { id: 's2', destination: `/amq/queue/${name}`, ack: 'client-individual', 'prefetch-count': '10', 'x-stream-offset': '3' });
    const fromThree = await messages(c, 2);
    expect(offsetsOf(fromThree)).toEqual([3, 4]);
    expect(fromThree.every((f) => f.headers['subscription'] === 's2')).toBe(true);
    // a SEND to the stream reaches both subscriptions as the tail moves
    c.send('SEND', { destination: `/amq/queue/${name}` }, 'f');
    const tail = await messages(c, 2);
    expect(tail.map((f) => [f.headers['subscription'], f.body.toString(), f.headers['x-stream-offset']]).sort()).toEqual([
      ['s1', 'f', '5'],
      ['s2', 'f', '5'],
    ]);
    c.close();
  });

  it('refuses a subscription without acknowledgements (ack:auto) as RabbitMQ does', async () => {
    const name = await streamWith(['a']);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { id: 's', destination: `/amq/queue/${name}`, 'prefetch-count': '10', 'x-stream-offset': 'first' });
    const f = await c.next();
    expect(f.command).toBe('ERROR');
    c.close();
  });

  it('a named subscription resumes after its last ACK; a durable one is named by its id', async () => {
    const name = await streamWith(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    const [c] = await RawClient.login(b.tcpPort);
    c.send('SUBSCRIBE', { id: 'r1', destination: `/amq/queue/${name}`, ack: 'client', 'prefetch-count': '3', 'x-stream-offset': 'first', 'x-stream-consumer-name': 'report' });
    const first = await messages(c, 3);
    c.send('ACK', { id: first[1].headers['ack'] }); // client mode: cumulative, 0 and 1
    c.send('UNSUBSCRIBE', { id: 'r1' });
    c.send('SUBSCRIBE', { id: 'r2', destination: `/amq/queue/${name}`, ack: 'client', 'prefetch-count': '10', 'x-stream-offset': 'first', 'x-stream-consumer-name': 'report' });
    // (the ACK freed credit: r1 may get 3 and 4 before its UNSUBSCRIBE, and never acks them)
    const resumed = await messages(c, 4, 'r2');
    expect(offsetsOf(resumed)).toEqual([2, 3, 4, 5]);
    // durable:true with an id: the id names the consumer
    c.send('SUBSCRIBE', { id: 'ledger', durable: 'true', destination: `/amq/queue/${name}`, ack: 'client', 'prefetch-count': '10', 'x-stream-offset': 'first' });
    const ledger = await messages(c, 6, 'ledger');
    c.send('ACK', { id: ledger[3].headers['ack'] });
    c.send('UNSUBSCRIBE', { id: 'ledger', receipt: 'gone' });
    await c.until('RECEIPT');
    c.send('SUBSCRIBE', { id: 'ledger', durable: 'true', destination: `/amq/queue/${name}`, ack: 'client', 'prefetch-count': '10', 'x-stream-offset': 'first' });
    expect(offsetsOf(await messages(c, 2, 'ledger'))).toEqual([4, 5]);
    c.close();
  });
});
