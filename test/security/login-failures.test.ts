/**
 * Failed logins on AMQP, MQTT and STOMP: each refusal — wrong password,
 * unknown user, no access to the vhost — is logged once at warn (protocol, peer, user,
 * reason; never the password) and answered only after auth.failure_delay, while another
 * client logs in meanwhile without waiting.
 */
import amqp from 'amqplib';
import type { IConnackPacket } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawAmqpClient } from '../helpers/raw-amqp-client.js';
import { startThreeProtocols, type LogLine, type ThreeProtocolBroker } from '../helpers/three-protocols.js';
import { CONNECT_V4, CONNECT_V5, RawClient as RawMqtt } from '../plugins/mqtt/helpers.js';
import { RawClient as RawStomp } from '../plugins/stomp/helpers.js';

const DELAY = 1500;
const SECRET = 'sw0rdfish-never-logged';

let b: ThreeProtocolBroker;
beforeAll(async () => {
  b = await startThreeProtocols({ auth: { failureDelay: DELAY } });
  b.broker.core.users.add('nova', SECRET); // a user without permissions on any vhost
});
afterAll(async () => {
  await b?.stop();
});

/** the one 'login refused' line for this protocol and user logged since `from` */
function refusalLines(protocol: RegExp, user: string, from: number): LogLine[] {
  return b.logs.slice(from).filter((l) => l.msg === 'login refused' && protocol.test(String(l.protocol)) && l.user === user);
}

function expectOneRefusalLine(protocol: RegExp, user: string, from: number, reason: RegExp): void {
  const lines = refusalLines(protocol, user, from);
  expect(lines).toHaveLength(1);
  const line = lines[0]!;
  expect(line.level).toBe('warn');
  expect(String(line.peer)).toMatch(/127\.0\.0\.1:\d+$/);
  expect(String(line.reason)).toMatch(reason);
  expect(JSON.stringify(b.logs)).not.toContain(SECRET);
}

/**
 * Runs `refused` and, once it is under way, `ok`; returns how long the refusal took and
 * whether the other login finished first.
 */
async function race(refused: () => Promise<unknown>, ok: () => Promise<unknown>): Promise<{ refusedAfter: number; okFirst: boolean }> {
  const t0 = Date.now();
  let refusedAt = 0;
  let okAt = 0;
  const r = refused().finally(() => (refusedAt = Date.now()));
  await new Promise((res) => setTimeout(res, 50)); // the bad login reaches the broker first
  await ok().then(() => (okAt = Date.now()));
  await r;
  return { refusedAfter: refusedAt - t0, okFirst: okAt > 0 && okAt < refusedAt };
}

describe('AMQP', () => {
  it('a wrong password gets connection.close 403 no sooner than the delay; another client connects meanwhile', async () => {
    const from = b.logs.length;
    const raw = await RawAmqpClient.open('127.0.0.1', b.amqpPort);
    try {
      const { refusedAfter, okFirst } = await race(
        async () => {
          await raw.handshake({ user: 'guest', password: SECRET }).catch(() => {});
          const closed = await raw.readUntilClose(DELAY + 5000);
          expect(closed.connectionClose?.replyCode).toBe(403);
        },
        async () => (await amqp.connect(b.amqpUrl())).close(),
      );
      expect(refusedAfter).toBeGreaterThanOrEqual(DELAY - 20);
      expect(okFirst).toBe(true);
    } finally {
      raw.destroy();
    }
    expectOneRefusalLine(/^amqp/, 'guest', from, /invalid credentials/);
  });

  it('an unknown user and a user without access to the vhost are refused the same way (403 / 530), after the delay', async () => {
    const from = b.logs.length;
    let t0 = Date.now();
    await expect(amqp.connect(b.amqpUrl('nobody', SECRET))).rejects.toThrow(/403/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(DELAY - 20);
    const raw = await RawAmqpClient.open('127.0.0.1', b.amqpPort);
    try {
      t0 = Date.now();
      await raw.handshake({ user: 'nova', password: SECRET }).catch(() => {});
      const closed = await raw.readUntilClose(DELAY + 5000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(DELAY - 20);
      expect(closed.connectionClose?.replyCode).toBe(530);
      expect(closed.connectionClose?.replyText).toMatch(/access to vhost '\/' refused for user 'nova'/);
    } finally {
      raw.destroy();
    }
    expectOneRefusalLine(/^amqp/, 'nobody', from, /invalid credentials/);
    expectOneRefusalLine(/^amqp/, 'nova', from, /access to vhost '\/' refused for user 'nova'/);
  });

  it('a client that hangs up during the pause costs nothing: the broker carries on', async () => {
    const raw = await RawAmqpClient.open('127.0.0.1', b.amqpPort);
    await raw.handshake({ password: 'wrong' }).catch(() => {});
    raw.destroy();
    const c = await amqp.connect(b.amqpUrl());
    await c.close();
  });
});

describe.each([4, 5] as const)('MQTT %s', (version) => {
  const code = (c: IConnackPacket) => (version === 5 ? c.reasonCode : c.returnCode);

  it('a wrong password gets its CONNACK refusal no sooner than the delay; another client connects meanwhile', async () => {
    const from = b.logs.length;
    const bad = await RawMqtt.open(b.mqttPort, version);
    const good = await RawMqtt.open(b.mqttPort, version);
    try {
      const connect = version === 5 ? CONNECT_V5 : CONNECT_V4;
      const { refusedAfter, okFirst } = await race(
        async () => {
          bad.send({ ...connect, clientId: `bad-${version}`, username: 'guest', password: Buffer.from(SECRET) }, version);
          const connack = (await bad.next('connack', DELAY + 5000)) as IConnackPacket;
          expect(code(connack)).toBe(version === 5 ? 0x86 : 4);
          expect(await bad.waitClosed(3000)).toBe(true);
        },
        async () => {
          good.send({ ...connect, clientId: `good-${version}`, username: 'guest', password: Buffer.from('guest') }, version);
          expect(code((await good.next('connack', 5000)) as IConnackPacket)).toBe(0);
        },
      );
      expect(refusedAfter).toBeGreaterThanOrEqual(DELAY - 20);
      expect(okFirst).toBe(true);
    } finally {
      bad.destroy();
      good.destroy();
    }
    expectOneRefusalLine(/^mqtt/, 'guest', from, /invalid credentials/);
  });

  it('no access to the vhost: not authorized after the delay, logged', async () => {
    const from = b.logs.length;
    const raw = await RawMqtt.open(b.mqttPort, version);
    try {
      const t0 = Date.now();
      raw.send({ ...(version === 5 ? CONNECT_V5 : CONNECT_V4), clientId: `nova-${version}`, username: 'nova', password: Buffer.from(SECRET) }, version);
      const connack = (await raw.next('connack', DELAY + 5000)) as IConnackPacket;
      expect(Date.now() - t0).toBeGreaterThanOrEqual(DELAY - 20);
      expect(code(connack)).toBe(version === 5 ? 0x87 : 5);
    } finally {
      raw.destroy();
    }
    expectOneRefusalLine(/^mqtt/, 'nova', from, /access to vhost '\/' refused/);
  });
});

describe('STOMP', () => {
  it('a wrong passcode gets ERROR no sooner than the delay; another client logs in meanwhile; what came after CONNECT is not read', async () => {
    const from = b.logs.length;
    const bad = await RawStomp.connect(b.stompPort);
    let good: RawStomp | undefined;
    try {
      const { refusedAfter, okFirst } = await race(
        async () => {
          // a SEND pipelined behind the refused CONNECT must not be handled
          bad.send('CONNECT', { 'accept-version': '1.2', login: 'guest', passcode: SECRET });
          bad.send('SEND', { destination: '/queue/after-refused-login' }, 'never');
          const f = await bad.next(DELAY + 5000);
          expect(f.command).toBe('ERROR');
          expect(f.headers['message']).toBe('Bad CONNECT');
          expect(f.body.toString()).not.toContain(SECRET);
          await bad.waitClosed();
          expect(bad.frames).toHaveLength(0);
        },
        async () => {
          [good] = await RawStomp.login(b.stompPort);
        },
      );
      expect(refusedAfter).toBeGreaterThanOrEqual(DELAY - 20);
      expect(okFirst).toBe(true);
      expect(b.broker.core.vhosts.get('/')!.queues.has('after-refused-login')).toBe(false);
    } finally {
      bad.close();
      good?.close();
    }
    expectOneRefusalLine(/^stomp/, 'guest', from, /invalid credentials/);
  });

  it('an unknown user and no access to the vhost: ERROR after the delay, logged', async () => {
    const from = b.logs.length;
    for (const login of ['nobody', 'nova']) {
      const c = await RawStomp.connect(b.stompPort);
      try {
        const t0 = Date.now();
        c.send('CONNECT', { 'accept-version': '1.2', host: '/', login, passcode: SECRET });
        const f = await c.next(DELAY + 5000);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(DELAY - 20);
        expect(f.command).toBe('ERROR');
      } finally {
        c.close();
      }
    }
    expectOneRefusalLine(/^stomp/, 'nobody', from, /invalid credentials/);
    expectOneRefusalLine(/^stomp/, 'nova', from, /access to vhost '\/' refused/);
  });
});

describe('configuration', () => {
  it('auth.failure_delay = 0 answers at once', async () => {
    const loginFailures = b.broker.core.loginFailures;
    loginFailures.delayMs = 0;
    try {
      const t0 = Date.now();
      await expect(amqp.connect(b.amqpUrl('guest', 'wrong'))).rejects.toThrow(/403/);
      expect(Date.now() - t0).toBeLessThan(DELAY);
    } finally {
      loginFailures.delayMs = DELAY;
    }
  });
});
