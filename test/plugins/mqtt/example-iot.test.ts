/**
 * examples/iot run end to end: MQTT devices with retained status and a will, an AMQP
 * service consuming their telemetry, a dashboard reading retained statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS example modules, no type declarations
import { startDevice } from '../../../examples/iot/device.mjs';
// @ts-expect-error plain JS example modules
import { startService } from '../../../examples/iot/service.mjs';
// @ts-expect-error plain JS example modules
import { readStatuses } from '../../../examples/iot/dashboard.mjs';
import { sleep, startMqttBroker, type MqttTestBroker } from './helpers.js';

interface Telemetry {
  device: string;
  reading: { seq: number; temperature: number };
  persistent: boolean;
}

describe('examples/iot', () => {
  let b: MqttTestBroker;
  beforeAll(async () => {
    b = await startMqttBroker({}, { amqp: true });
  });
  afterAll(async () => {
    await b?.stop();
  });

  it('devices publish telemetry over MQTT, the service consumes it over AMQP, statuses and wills work', async () => {
    const telemetry: Telemetry[] = [];
    const statuses: { device: string; status: string }[] = [];
    const service = await startService(b.amqpUrl, {
      onTelemetry: (t: Telemetry) => telemetry.push(t),
      onStatus: (s: { device: string; status: string }) => statuses.push(s),
    });
    const ids = ['s1', 's2', 's3'];
    const devices = await Promise.all(ids.map((id) => startDevice(b.url, id, { intervalMs: 10, count: 5 })));
    try {
      for (let i = 0; i < 100 && telemetry.length < 15; i++) await sleep(20);
      expect(telemetry).toHaveLength(15);
      expect(telemetry.every((t) => t.persistent)).toBe(true);
      for (const id of ids) expect(telemetry.filter((t) => t.device === id).map((t) => t.reading.seq)).toEqual([0, 1, 2, 3, 4]);
      expect(await readStatuses(b.url, { settleMs: 100 })).toEqual({ s1: 'online', s2: 'online', s3: 'online' });

      devices[0].crash(); // the will sets s1 offline
      for (let i = 0; i < 50 && !statuses.some((s) => s.device === 's1' && s.status === 'offline'); i++) await sleep(20);
      expect(statuses.filter((s) => s.device === 's1').map((s) => s.status)).toEqual(['online', 'offline']);
      expect(await readStatuses(b.url, { settleMs: 100 })).toEqual({ s1: 'offline', s2: 'online', s3: 'online' });
    } finally {
      await Promise.all(devices.slice(1).map((d: { stop(): Promise<void> }) => d.stop()));
      await service.stop();
    }
    expect(await readStatuses(b.url, { settleMs: 100 })).toEqual({ s1: 'offline', s2: 'offline', s3: 'offline' });
  });
});
