/**
 * Bodies above `large_message_threshold` over STOMP. Published over AMQP (so written to the
 * journal as its frames arrive) and consumed over STOMP: the MESSAGE frame's body is streamed
 * from the journal, its content-length is the real size, and frames sent meanwhile (the next
 * delivery, a receipt) follow it whole. Sent over STOMP with a content-length: the parser
 * hands the body to the journal as it arrives instead of buffering it (so it is not bound by
 * the frame size limit, only by max_message_size), and an AMQP consumer gets it intact.
 */
import { createHash, randomBytes } from 'node:crypto';
import amqp, { type ChannelModel } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileStore } from '../../../src/store/file-store.js';
import type { Client, IMessage } from '@stomp/stompjs';
import { RawClient, startStompBroker, stompjsClient, type StompTestBroker } from './helpers.js';

const MiB = 1024 * 1024;
let b: StompTestBroker | null = null;
let conn: ChannelModel | null = null;
let client: RawClient | null = null;
let stompjs: Client | null = null;

afterEach(async () => {
  client?.socket.destroy();
  await stompjs?.deactivate();
  stompjs = null;
  await conn?.close().catch(() => undefined);
  await b?.stop();
  b = null;
  conn = null;
  client = null;
});

const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');

describe('STOMP delivery of a body streamed through the journal', { timeout: 60_000 }, () => {
  it('published on AMQP, consumed on STOMP intact, and the frames after it follow it', async () => {
    b = await startStompBroker({}, { plugins: ['amqp'], broker: { largeMessageThreshold: MiB } });
    conn = await amqp.connect(b.amqpUrl!);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('big-x', { durable: true });
    const big = randomBytes(3 * MiB + 5);
    const small = Buffer.from('after the big one');
    ch.sendToQueue('big-x', big, { persistent: true, contentType: 'application/octet-stream' });
    ch.sendToQueue('big-x', small, { persistent: true });
    await ch.waitForConfirms();
    const [c] = await RawClient.login(b.tcpPort);
    client = c;
    c.send('SUBSCRIBE', { id: 's1', destination: '/amq/queue/big-x', ack: 'client-individual', receipt: 'r1' });
    const frames = await c.until('MESSAGE', 30_000);
    const first = frames.find((f) => f.command === 'MESSAGE')!;
    expect(Number(first.headers['content-length'])).toBe(big.length);
    expect(first.headers['content-type']).toBe('application/octet-stream');
    expect(first.body.length).toBe(big.length);
    expect(sha(first.body)).toBe(sha(big));
    // the subscription's RECEIPT, held while the body streamed, comes whole after it
    let second = await c.next(30_000);
    if (second.command === 'RECEIPT') second = await c.next(30_000);
    expect(second.command).toBe('MESSAGE');
    expect(second.body.equals(small)).toBe(true);
  });

  it('a SEND with a content-length above the threshold is streamed to the journal, past the frame size limit, and delivered intact over AMQP', async () => {
    b = await startStompBroker({ max_frame_size: 2 * MiB }, { plugins: ['amqp'], broker: { largeMessageThreshold: MiB } });
    const [c] = await RawClient.login(b.tcpPort);
    client = c;
    const big = randomBytes(5 * MiB + 7);
    big[100] = 0; // a NUL inside: the content-length, not the first NUL, ends the body
    const journal = b.broker.core.vhosts.get('/')!.store!.messages as FileStore;
    const partsBefore = journal.metrics().records.other;
    c.send('SEND', { destination: '/queue/big-in', persistent: 'true', 'content-length': String(big.length), receipt: 'sent' }, big);
    const receipt = await c.next(30_000);
    expect(receipt.command).toBe('RECEIPT');
    expect(receipt.headers['receipt-id']).toBe('sent');
    // written as 256 KiB parts while it arrived
    expect(journal.metrics().records.other - partsBefore).toBe(Math.ceil(big.length / (256 * 1024)));
    conn = await amqp.connect(b.amqpUrl!);
    const ch = await conn.createChannel();
    const got = await new Promise<amqp.ConsumeMessage>((resolve) => void ch.consume('big-in', (m) => m && resolve(m), { noAck: true }));
    expect(got.content.length).toBe(big.length);
    expect(sha(got.content)).toBe(sha(big));
  });

  it('over WebSocket (one frame per message) a streamed body is read whole for its MESSAGE, and the next one follows it', async () => {
    b = await startStompBroker({}, { plugins: ['amqp'], broker: { largeMessageThreshold: MiB } });
    conn = await amqp.connect(b.amqpUrl!);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('big-ws', { durable: true });
    const big = randomBytes(2 * MiB + 1);
    ch.sendToQueue('big-ws', big, { persistent: true });
    ch.sendToQueue('big-ws', Buffer.from('next'), { persistent: true });
    await ch.waitForConfirms();
    stompjs = await stompjsClient(b.wsPort);
    const got: IMessage[] = [];
    stompjs.subscribe('/amq/queue/big-ws', (m) => got.push(m));
    const until = Date.now() + 30_000;
    while (got.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(got.length).toBe(2);
    expect(sha(Buffer.from(got[0].binaryBody))).toBe(sha(big));
    expect(got[1].body).toBe('next');
  });
});
