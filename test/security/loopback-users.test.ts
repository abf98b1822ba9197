/**
 * Loopback-only users (RabbitMQ's `loopback_users`, by default guest): the
 * broker listens on every IPv4 address and the clients come in through this machine's own
 * non-loopback address, so the broker sees a remote peer. guest is refused on every protocol
 * (AMQP 403, MQTT not authorized, STOMP ERROR) and the refusal is logged; another user, and
 * guest over loopback, still get in. Skipped only on a machine without any non-loopback IPv4
 * address (then no remote peer can be made).
 */
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThreeProtocols, type ThreeProtocolBroker } from '../helpers/three-protocols.js';
import { nonLoopbackIPv4 } from '../helpers/require-tool.js';
import { RawClient as RawStomp } from '../plugins/stomp/helpers.js';

const external = nonLoopbackIPv4('loopback-users tests from a remote address');

let b: ThreeProtocolBroker;
beforeAll(async () => {
  if (external === undefined) return;
  b = await startThreeProtocols({ amqp: { host: '0.0.0.0' }, mqtt: { host: '0.0.0.0' }, stomp: { host: '0.0.0.0' }, auth: { failureDelay: 0 } });
  b.broker.core.users.add('remote', 'remote-pass');
  b.broker.core.users.setPermissions('remote', '/', { configure: '.*', write: '.*', read: '.*' });
});
afterAll(async () => {
  await b?.stop();
});

function refusedGuest(protocol: RegExp, from: number): boolean {
  return b.logs.slice(from).some((l) => l.msg === 'login refused' && l.user === 'guest' && protocol.test(String(l.protocol)) && String(l.peer).startsWith(`${external}:`));
}

async function mqttConnack(host: string, username: string, password: string, protocolVersion: 4 | 5): Promise<number> {
  const client = mqtt.connect(`mqtt://${host}:${b.mqttPort}`, { username, password, protocolVersion, reconnectPeriod: 0, connectTimeout: 5000 });
  try {
    return await new Promise<number>((resolve, reject) => {
      client.once('connect', (p) => resolve(p.returnCode ?? p.reasonCode ?? 0));
      client.once('error', (e) => resolve((e as { code?: number }).code ?? -1));
      setTimeout(() => reject(new Error('no CONNACK')), 5000);
    });
  } finally {
    client.end(true);
  }
}

describe.skipIf(external === undefined)(`guest from a non-loopback address (${external})`, () => {
  it('AMQP: 403 ACCESS_REFUSED, logged; another user gets in from there, guest from loopback', async () => {
    const from = b.logs.length;
    await expect(amqp.connect(`amqp://guest:guest@${external}:${b.amqpPort}`)).rejects.toThrow(/403|ACCESS_REFUSED/);
    expect(refusedGuest(/^amqp/, from)).toBe(true);
    await (await amqp.connect(`amqp://remote:remote-pass@${external}:${b.amqpPort}`)).close();
    await (await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.amqpPort}`)).close();
  });

  it.each([4, 5] as const)('MQTT %s: CONNACK not authorized, logged; another user gets in', async (version) => {
    const from = b.logs.length;
    expect(await mqttConnack(external!, 'guest', 'guest', version)).toBe(version === 5 ? 0x87 : 5);
    expect(refusedGuest(/^mqtt/, from)).toBe(true);
    expect(await mqttConnack(external!, 'remote', 'remote-pass', version)).toBe(0);
    expect(await mqttConnack('127.0.0.1', 'guest', 'guest', version)).toBe(0);
  });

  it('STOMP: ERROR, logged; another user gets in', async () => {
    const from = b.logs.length;
    const c = await RawStomp.connect(b.stompPort, external);
    try {
      c.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
      expect((await c.next(5000)).command).toBe('ERROR');
    } finally {
      c.close();
    }
    expect(refusedGuest(/^stomp/, from)).toBe(true);
    const ok = await RawStomp.connect(b.stompPort, external);
    try {
      ok.send('CONNECT', { 'accept-version': '1.2', host: '/', login: 'remote', passcode: 'remote-pass' });
      expect((await ok.next(5000)).command).toBe('CONNECTED');
    } finally {
      ok.close();
    }
  });
});
