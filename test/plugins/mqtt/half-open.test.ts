/**
 * A device that loses power: its TCP connection is half-open (no FIN ever comes; it neither
 * reads nor writes again). The broker must notice from the keep-alive alone, within 1.5 ×
 * the keep-alive (MQTT-3.1.2-24), publish its will, and keep its persistent session: the
 * device, back on a new connection, finds its session and the QoS 1 message sent meanwhile.
 */
import type { IConnackPacket, IPublishPacket } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clients, Inbox, RawClient, sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
beforeAll(async () => {
  b = await startMqttBroker();
});
afterAll(() => b.stop());

describe('half-open TCP (a device loses power)', () => {
  for (const version of [4, 5] as const) {
    it(`is detected within 1.5 × keep-alive, its will published and its session kept (MQTT ${version})`, async () => {
      const clients = new Clients(b.url);
      const device = await RawClient.open(b.tcpPort, version);
      try {
        const watcher = await clients.connect({ clientId: `ho-watch-${version}` });
        const wills = new Inbox(watcher);
        await watcher.subscribeAsync(`ho${version}/+/status`, { qos: 1 });
        const id = `ho-device-${version}`;
        const keepalive = 2;
        device.send({
          cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId: id, clean: false, keepalive,
          will: { topic: `ho${version}/${id}/status`, payload: Buffer.from('offline'), qos: 1, retain: false },
          ...(version === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
        }, version);
        await device.next('connack');
        // the broker reads the device's last packet, SUBSCRIBE, between these two instants
        const lastPacketSentAt = Date.now();
        device.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `ho${version}/${id}/cmd`, qos: 1 }] }, version);
        await device.next('suback');
        const lastPacketAnsweredAt = Date.now();
        // power lost: the socket stays open (no FIN), nothing is read or written any more
        device.socket.pause();
        const commander = await clients.connect({ clientId: `ho-cmd-${version}` });
        await commander.publishAsync(`ho${version}/${id}/cmd`, 'reboot', { qos: 1 });

        await wills.waitFor(1, 6000);
        const willAt = Date.now();
        expect(wills.payloads).toEqual(['offline']);
        // not before 1.5 × keep-alive counted from the last packet at the earliest it can have
        // been read (a loaded machine may take long to answer it), and within 1.5 × keep-alive
        // of its answer at the latest (plus timer and scheduling slack on a loaded machine)
        expect(willAt - lastPacketSentAt).toBeGreaterThanOrEqual(keepalive * 1500 - 20);
        expect(willAt - lastPacketAnsweredAt).toBeLessThan(keepalive * 1500 + 1000);

        // back on a new connection: the session (its subscription, the command sent meanwhile) is there
        const back = await RawClient.open(b.tcpPort, version);
        try {
          back.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId: id, clean: false, keepalive: 0, ...(version === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) }, version);
          const connack = (await back.next('connack')) as IConnackPacket;
          expect(connack.sessionPresent).toBe(true);
          const cmd = (await back.next('publish', 3000)) as IPublishPacket;
          expect(cmd.payload.toString()).toBe('reboot');
          back.send({ cmd: 'puback', messageId: cmd.messageId }, version);
          back.send({ cmd: 'disconnect' }, version);
          await sleep(50);
        } finally {
          back.destroy();
        }
      } finally {
        device.destroy();
        await clients.closeAll();
      }
    });
  }
});
