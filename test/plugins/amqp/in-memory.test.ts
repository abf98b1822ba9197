/**
 * The AMQP front-end over an in-memory stream pair (`Broker.accept`), no socket: the
 * handshake, a publish and a basic.get of it, and a protocol fault, driven by raw frames from
 * the test-side codec (test/helpers/amqp-frames.ts). The socket tests cover the same paths
 * over TCP; these show the connection needs nothing of a socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inMemoryConnection } from '../../helpers/memory-pair.js';
import { ArgWriter, FRAME_BODY, FRAME_HEADER, Method, methodFrame, publishFrames } from '../../helpers/amqp-frames.js';
import { RawAmqpClient } from '../../helpers/raw-amqp-client.js';
import { startThreeProtocols, type ThreeProtocolBroker } from '../../helpers/three-protocols.js';

let b: ThreeProtocolBroker;
beforeAll(async () => {
  b = await startThreeProtocols();
});
afterAll(async () => {
  await b?.stop();
});

/** A raw client on one end of a fresh pair, the broker's AMQP front-end on the other. */
const inMemoryClient = () => RawAmqpClient.over(inMemoryConnection(b.broker, 'amqp'));

describe('AMQP over an in-memory stream', () => {
  it('shakes hands, publishes and gets the message back', async () => {
    const raw = inMemoryClient();
    await raw.handshake();
    await raw.expectMethod(Method.connectionOpenOk);
    await raw.openChannel(1);
    raw.send(methodFrame(1, Method.queueDeclare, new ArgWriter().short(0).shortstr('in-memory-q').octet(0).table({})));
    await raw.expectMethod(Method.queueDeclareOk);
    raw.send(publishFrames(1, '', 'in-memory-q', Buffer.from('over a duplex pair')));
    raw.send(methodFrame(1, Method.basicGet, new ArgWriter().short(0).shortstr('in-memory-q').bit(true)));
    await raw.expectMethod(Method.basicGetOk);
    expect((await raw.nextFrame()).type).toBe(FRAME_HEADER);
    const body = await raw.nextFrame();
    expect(body.type).toBe(FRAME_BODY);
    expect(body.payload.toString()).toBe('over a duplex pair');
    raw.send(methodFrame(0, Method.connectionClose, new ArgWriter().short(200).shortstr('bye').short(0).short(0)));
    await raw.expectMethod(Method.connectionCloseOk);
    await raw.closed;
  });

  it('a method on a channel never opened: connection.close 504 CHANNEL_ERROR, then the stream ends', async () => {
    const raw = inMemoryClient();
    await raw.handshake();
    await raw.expectMethod(Method.connectionOpenOk);
    raw.send(methodFrame(5, Method.queueDeclare, new ArgWriter().short(0).shortstr('').octet(0).table({})));
    const result = await raw.readUntilClose();
    expect(result.connectionClose).toMatchObject({ replyCode: 504, classId: 50, methodId: 10 });
  });

  it('a garbage protocol header is answered with the one the broker speaks', async () => {
    const raw = inMemoryClient();
    raw.send('HTTP/1.1');
    const result = await raw.readUntilClose();
    expect(result.bytes.toString('latin1')).toBe('AMQP\0\0\x09\x01');
  });
});
