/**
 * Client connections of every protocol through the management API: listed with their
 * protocol, their channels and consumers, and closed from the server side (DELETE), which
 * each front-end turns into its protocol's way of saying so.
 */
import { connect as netConnect, type Socket } from 'node:net';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc, eventually, startManaged, type ManagedBroker } from './helpers.js';

let m: ManagedBroker;
beforeAll(async () => {
  m = await startManaged({ mqtt: true, stomp: true });
});
afterAll(async () => {
  await m?.stop();
});

interface Conn {
  name: string;
  protocol: string;
  user: string;
  vhost: string;
  user_provided_name: string | null;
  channels: number;
  peer_port: number;
}

async function connections(): Promise<Conn[]> {
  return (await m.api<Conn[]>('GET', '/api/connections')).body;
}

/** A STOMP 1.2 client on a raw socket, connected; resolves with the socket and what it receives. */
async function stompClient(): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { port } = m.broker.address('stomp');
  const socket = netConnect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (d) => (data += d.toString()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
  await eventually(() => (data.startsWith('CONNECTED') ? true : undefined));
  return { socket, received: () => data, closed };
}

describe('connections of every protocol', () => {
  it('lists AMQP, MQTT and STOMP connections with their protocol, user, vhost and name', async () => {
    const a = await amqp.connect(m.amqpUrl, { clientProperties: { connection_name: 'orders-service' } });
    const mq = await mqtt.connectAsync(m.broker.url('mqtt'), { clientId: 'sensor-7', protocolVersion: 5, reconnectPeriod: 0 });
    const st = await stompClient();
    try {
      const list = await connections();
      const byProtocol = Object.fromEntries(list.map((c) => [c.protocol, c]));
      expect(Object.keys(byProtocol).sort()).toEqual(['AMQP 0-9-1', 'MQTT 5', 'STOMP 1.2']);
      expect(byProtocol['AMQP 0-9-1']).toMatchObject({ user: 'guest', vhost: '/', user_provided_name: 'orders-service', type: 'network', state: 'running' });
      expect(byProtocol['MQTT 5']).toMatchObject({ user: 'guest', user_provided_name: 'sensor-7', channels: 1 });
      const amqpConn = byProtocol['AMQP 0-9-1']!;
      expect((await m.api('GET', `/api/connections/${enc(amqpConn.name)}`)).body).toMatchObject({ name: amqpConn.name, client_properties: expect.objectContaining({ connection_name: 'orders-service', product: 'amqplib' }) });
      expect((await m.api('GET', '/api/vhosts/%2F/connections')).body).toHaveLength(3);
      const overview = (await m.api('GET', '/api/overview')).body;
      expect(overview.object_totals.connections).toBe(3);
      expect(overview.connections_by_protocol).toEqual({ 'amqp-0-9-1': 1, 'mqtt-5': 1, 'stomp-1.2': 1 });
    } finally {
      await a.close();
      await mq.endAsync();
      st.socket.destroy();
    }
    await eventually(async () => ((await connections()).length === 0 ? true : undefined));
  });

  it('channels and consumers of an AMQP connection, with prefetch and unacked counts', async () => {
    const a = await amqp.connect(m.amqpUrl);
    try {
      const ch = await a.createChannel();
      await ch.assertQueue('c.work', { durable: false });
      await ch.prefetch(3);
      for (let i = 0; i < 5; i++) ch.sendToQueue('c.work', Buffer.from('x'));
      let got = 0;
      await ch.consume('c.work', () => void got++, { consumerTag: 'worker-1', arguments: { 'x-priority': 4 } });
      await a.createChannel();
      await eventually(() => (got === 3 ? true : undefined));
      const [conn] = await connections();
      expect(conn!.channels).toBe(2);
      const channels = (await m.api('GET', `/api/connections/${enc(conn!.name)}/channels`)).body;
      expect(channels).toHaveLength(2);
      const working = channels.find((c: { consumer_count: number }) => c.consumer_count === 1);
      expect(working).toMatchObject({ messages_unacknowledged: 3, prefetch_count: 3, global_prefetch_count: 0, user: 'guest', vhost: '/', connection_details: { name: conn!.name } });
      expect((await m.api('GET', `/api/channels/${enc(working.name)}`)).body.name).toBe(working.name);
      expect((await m.api('GET', '/api/channels')).body).toHaveLength(2);
      expect((await m.api('GET', '/api/vhosts/%2F/channels')).body).toHaveLength(2);
      const consumers = (await m.api('GET', '/api/consumers/%2F')).body;
      expect(consumers).toEqual([
        {
          consumer_tag: 'worker-1',
          queue: { name: 'c.work', vhost: '/' },
          channel_details: expect.objectContaining({ name: working.name, connection_name: conn!.name, user: 'guest' }),
          ack_required: true,
          exclusive: false,
          prefetch_count: 3,
          arguments: { 'x-priority': 4 },
          active: true,
          activity_status: 'up',
        },
      ]);
      expect((await m.api('GET', '/api/consumers')).body).toHaveLength(1);
      expect((await m.api('GET', '/api/channels/nope')).status).toBe(404);
    } finally {
      await a.close();
    }
  });

  it('DELETE closes an AMQP connection with 320 CONNECTION_FORCED and the X-Reason text', async () => {
    const a = await amqp.connect(m.amqpUrl);
    const closed = new Promise<Error>((resolve) => a.on('close', resolve));
    const [conn] = await connections();
    const r = await m.api('DELETE', `/api/connections/${enc(conn!.name)}`, undefined, undefined, { 'x-reason': 'maintenance window' });
    expect(r.status).toBe(204);
    expect((await closed).message).toMatch(/320 \(CONNECTION-FORCED\) with message "CONNECTION_FORCED - maintenance window"/);
    await eventually(async () => ((await connections()).length === 0 ? true : undefined));
    expect((await m.api('DELETE', `/api/connections/${enc(conn!.name)}`)).status).toBe(404);
  });

  it('DELETE closes an MQTT 5 connection with DISCONNECT 0x98 (administrative action)', async () => {
    const mq = await mqtt.connectAsync(m.broker.url('mqtt'), { clientId: 'to-close', protocolVersion: 5, reconnectPeriod: 0 });
    const disconnected = new Promise<number | undefined>((resolve) => mq.on('disconnect', (p) => resolve(p.reasonCode)));
    const [conn] = await connections();
    expect((await m.api('DELETE', `/api/connections/${enc(conn!.name)}`)).status).toBe(204);
    expect(await disconnected).toBe(0x98);
    await mq.endAsync(true);
    await eventually(async () => ((await connections()).length === 0 ? true : undefined));
  });

  it('DELETE closes a STOMP connection with an ERROR frame carrying the reason', async () => {
    const st = await stompClient();
    const [conn] = await connections();
    await m.api('DELETE', `/api/connections/${enc(conn!.name)}`, undefined, undefined, { 'x-reason': 'bye now' });
    await st.closed;
    expect(st.received()).toMatch(/ERROR\n(?:.*\n)*message:connection_forced\n[\s\S]*bye now/);
  });

  it('a publisher held by a non-durable queue whose consumer stalled shows state flow, then running again', async () => {
    const pub = await amqp.connect(m.amqpUrl, { clientProperties: { connection_name: 'fast-publisher' } });
    const sub = await amqp.connect(m.amqpUrl);
    try {
      const sch = await sub.createChannel();
      await sch.assertQueue('flow-state', { durable: false });
      await sch.prefetch(1);
      const held: amqp.ConsumeMessage[] = [];
      let draining = false;
      let got = 0;
      await sch.consume('flow-state', (msg) => {
        if (msg === null) return;
        got++;
        if (draining) sch.ack(msg);
        else held.push(msg);
      });
      const pch = await pub.createConfirmChannel();
      const total = 200; // 12.5 MiB of 64 KiB bodies: past the default queue_flow_bytes (8 MiB)
      for (let i = 0; i < total; i++) pch.sendToQueue('flow-state', Buffer.alloc(64 * 1024));
      const state = async () => (await connections()).find((c) => c.user_provided_name === 'fast-publisher') as (Conn & { state: string }) | undefined;
      await eventually(async () => ((await state())?.state === 'flow' ? true : undefined));
      draining = true;
      for (const msg of held.splice(0)) sch.ack(msg);
      await pch.waitForConfirms();
      await eventually(() => (got === total ? true : undefined), 20_000);
      expect((await state())?.state).toBe('running');
    } finally {
      await pub.close().catch(() => undefined);
      await sub.close().catch(() => undefined);
    }
  });
});
