/**
 * Connection lifecycle over a real socket: open/close with both amqplib APIs, login and
 * vhost refusal, heartbeats, server capabilities, channel-max, and forced close on stop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import * as amqpCallback from 'amqplib/callback_api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callback, isClosed, sleep, uniqueName, useClients } from '../../helpers/amqp-clients.js';
import { ArgWriter, Method, methodFrame } from '../../helpers/amqp-frames.js';
import { isExternalBroker, startBroker, type TestBroker } from '../../helpers/broker.js';
import { RawAmqpClient } from '../../helpers/raw-amqp-client.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});
const clients = useClients(() => broker.url);

function urlWith(change: (u: URL) => void): string {
  const u = new URL(broker.url);
  change(u);
  return u.toString();
}

describe('connection open and close', () => {
  it('opens a connection and a channel, then closes both (promise API)', async () => {
    const conn = await clients.connect();
    const ch = await clients.channel(conn);
    const { queue } = await ch.assertQueue('', { exclusive: true });
    expect(queue).not.toBe('');
    await ch.close();
    await conn.close();
    expect(isClosed(ch)).toBe(true);
    expect(isClosed(conn)).toBe(true);
  });

  it('opens a connection and a channel, then closes both (callback API)', async () => {
    const conn = await clients.connectCallbackApi();
    const ch = await clients.callbackChannel(conn);
    const ok = await callback<{ queue: string }>((cb) => ch.assertQueue('', { exclusive: true }, cb));
    expect(ok.queue).toMatch(/^amq\.gen-/);
    await callback<void>((cb) => ch.close(cb as never));
    await callback<void>((cb) => conn.close(cb as never));
    expect(isClosed(conn)).toBe(true);
  });

  it('refuses a wrong password with 403 ACCESS_REFUSED', async () => {
    const url = urlWith((u) => (u.password = 'not-the-password'));
    await expect(amqp.connect(url)).rejects.toThrow(/403 \(ACCESS-REFUSED\)/);
  });

  it('sends connection.close 403 to a client announcing authentication_failure_close', async () => {
    const raw = await RawAmqpClient.open(broker.host, broker.port);
    try {
      await raw.handshake({ password: 'not-the-password' }).catch(() => {});
      const result = await raw.readUntilClose();
      expect(result.connectionClose?.replyCode).toBe(403);
    } finally {
      raw.destroy();
    }
  });

  it('refuses an unknown vhost with connection.close 530 NOT_ALLOWED', async () => {
    const vhost = uniqueName('no-such-vhost');
    await expect(amqp.connect(urlWith((u) => (u.pathname = `/${encodeURIComponent(vhost)}`)))).rejects.toThrow();
    const raw = await RawAmqpClient.open(broker.host, broker.port);
    try {
      await raw.handshake({ vhost });
      const result = await raw.readUntilClose();
      expect(result.connectionClose?.replyCode).toBe(530);
    } finally {
      raw.destroy();
    }
  });
});

describe('heartbeats', () => {
  it('keeps an idle connection with heartbeat=1 alive, and closes a silent peer', async () => {
    const conn = await clients.connect('heartbeat=1');
    // A raw peer that negotiates 1 s and then never sends anything, heartbeats included:
    // the server must give up on it after missing two (AMQP 0-9-1 §4.2.7).
    const silent = await RawAmqpClient.openHandshaken(broker.host, broker.port, { heartbeat: 1 });
    try {
      await sleep(3000);
      // amqplib closes the connection with 'Heartbeat timeout' if the server sent nothing for two periods.
      expect(isClosed(conn)).toBe(false);
      const ch = await clients.channel(conn);
      await ch.checkExchange('amq.direct');
      await silent.readUntilClose(3000);
      expect(silent.isClosed).toBe(true);
    } finally {
      silent.destroy();
    }
  }, 10_000);

  it('proposes a heartbeat in connection.tune', async () => {
    const raw = await RawAmqpClient.open(broker.host, broker.port);
    try {
      const tune = await raw.handshake();
      expect(tune.heartbeat).toBeGreaterThan(0);
      expect(tune.frameMax === 0 || tune.frameMax >= 4096).toBe(true);
    } finally {
      raw.destroy();
    }
  });
});

describe('server properties', () => {
  it('advertises the capabilities the suite relies on', async () => {
    const conn = await clients.connect();
    const props = conn.connection.serverProperties as unknown as Record<string, unknown>;
    expect(typeof props.product).toBe('string');
    expect(typeof props.version).toBe('string');
    expect(props.capabilities).toMatchObject({
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      'basic.nack': true,
      consumer_cancel_notify: true,
      per_consumer_qos: true,
      authentication_failure_close: true,
      // implemented (x-priority, alarms, amq.rabbitmq.reply-to): clients only use them when announced
      consumer_priorities: true,
      'connection.blocked': true,
      direct_reply_to: true,
    });
  });
});

describe('announced product and version', () => {
  it.skipIf(isExternalBroker)("are Warren's own by default, and amqp.server_product / server_version when set (RabbitMQ's server_properties)", async () => {
    const conn = await clients.connect();
    const props = conn.connection.serverProperties as unknown as Record<string, unknown>;
    expect(props.product).toBe('Warren');
    expect(props.version).toMatch(/^\d+\.\d+\.\d+/);
    const { Broker } = await import('../../../src/index.js');
    const dataDir = await mkdtemp(join(tmpdir(), 'warren-product-'));
    const own = new Broker({ dataDir, log: { level: 'warn' }, amqp: { port: 0, host: '127.0.0.1', server_product: 'RabbitMQ', server_version: '3.10.8' } });
    try {
      await own.start();
      const c = await amqp.connect(own.url('amqp'));
      const p = c.connection.serverProperties as unknown as Record<string, unknown>;
      expect([p.product, p.version]).toEqual(['RabbitMQ', '3.10.8']);
      await c.close();
    } finally {
      await own.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('channel-max', () => {
  it('proposes a channel-max and honours a lower one from the client (amqplib)', async () => {
    const raw = await RawAmqpClient.open(broker.host, broker.port);
    try {
      const tune = await raw.handshake();
      expect(tune.channelMax).toBeGreaterThan(0);
    } finally {
      raw.destroy();
    }
    const conn = await clients.connect('channelMax=2');
    const first = await clients.channel(conn);
    const second = await clients.channel(conn);
    await first.checkExchange('amq.fanout');
    await second.checkExchange('amq.fanout');
    await expect(conn.createChannel()).rejects.toThrow(/No channels left/);
  });

  it('closes the connection with 530 NOT_ALLOWED when a channel above the negotiated channel-max is opened', async () => {
    const raw = await RawAmqpClient.openHandshaken(broker.host, broker.port, { channelMax: 2 });
    try {
      await raw.openChannel(1);
      await raw.openChannel(2);
      raw.send(methodFrame(3, Method.channelOpen, new ArgWriter().shortstr('')));
      const result = await raw.readUntilClose();
      expect(result.connectionClose?.replyCode).toBe(530);
    } finally {
      raw.destroy();
    }
  });
});

describe('broker stop', () => {
  // Warren only: stopping the shared external broker is not something a test may do.
  it.skipIf(isExternalBroker)('closes client connections with 320 CONNECTION_FORCED on a graceful stop', async () => {
    const own = await startBroker();
    try {
      const conn = await amqp.connect(own.url);
      const closed = new Promise<{ code?: number } | undefined>((resolve) => conn.on('close', resolve));
      conn.on('error', () => {});
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await ch.assertQueue('', { exclusive: true });
      await own.stop();
      const err = await closed;
      expect(err?.code).toBe(320);
    } finally {
      await own.stop();
    }
  });

  it.skipIf(isExternalBroker)('reports the forced close to the callback API too', async () => {
    const own = await startBroker();
    try {
      const conn = await callback<amqpCallback.Connection>((cb) => amqpCallback.connect(own.url, cb));
      conn.on('error', () => {});
      const closedConn = new Promise<{ code?: number } | undefined>((resolve) => conn.on('close', resolve));
      await own.stop();
      expect((await closedConn)?.code).toBe(320);
    } finally {
      await own.stop();
    }
  });
});
