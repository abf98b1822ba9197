/**
 * Bad input on the streamed SEND path (a SEND whose content-length is above
 * `large_message_threshold` has its body written to the journal as it arrives,
 * plugins/stomp/streamed-send.ts): when the content-length bytes are not followed by the
 * frame's NUL (STOMP 1.2 "Header content-length"), the client gets an ERROR frame and its
 * connection ends; the half-streamed message reaches no queue and other clients carry on.
 */
import { connect, type Socket } from 'node:net';
import amqp, { type ChannelModel } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { startThreeProtocols, type ThreeProtocolBroker } from '../../helpers/three-protocols.js';

const MiB = 1024 * 1024;
let b: ThreeProtocolBroker | null = null;
let conn: ChannelModel | null = null;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await conn?.close().catch(() => undefined);
  conn = null;
  await b?.stop();
  b = null;
});

describe('STOMP streamed SEND: bad input', { timeout: 60_000 }, () => {
  it('a body not followed by NUL gets an ERROR frame, and no message reaches the queue', async () => {
    b = await startThreeProtocols({ largeMessageThreshold: MiB });
    conn = await amqp.connect(b.amqpUrl());
    const ch = await conn.createChannel();
    await ch.assertQueue('big', { durable: true });

    const socket = connect(b.stompPort, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (d) => (received += d.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
    const length = 2 * MiB;
    socket.write(`SEND\ndestination:/queue/big\ncontent-length:${length}\n\n`);
    socket.write(Buffer.alloc(length, 0x61));
    socket.write('X'); // where the NUL must be
    await closed;
    expect(received).toMatch(/^CONNECTED/);
    expect(received).toContain('ERROR\n');

    // the broker carries on, and the queue holds only what is published now
    expect((await ch.checkQueue('big')).messageCount).toBe(0);
    ch.sendToQueue('big', Buffer.from('after'));
    const got = await new Promise<string>((resolve) => void ch.consume('big', (m) => m && resolve(m.content.toString()), { noAck: true }));
    expect(got).toBe('after');
  });
});
