/**
 * A simulated IoT device speaking MQTT (MQTT.js). It announces itself with a retained
 * status ("online"), leaves a will that sets the retained status to "offline" if it drops off
 * the network without saying goodbye, and publishes telemetry at QoS 1.
 *
 *   node examples/iot/device.mjs sensor-1          (MQTT_URL, default mqtt://127.0.0.1:1883)
 */
import mqtt from 'mqtt';

export const statusTopic = (id) => `devices/${id}/status`;
export const telemetryTopic = (id) => `devices/${id}/telemetry`;

/**
 * Connect a device and start publishing a reading every `intervalMs` (`count` readings, or
 * for ever). Resolves once connected with `stop()` (a clean goodbye: retained "offline",
 * DISCONNECT, so no will) and `crash()` (the connection just drops: the broker publishes the
 * will).
 */
export async function startDevice(url, id, { intervalMs = 1000, count = Infinity, onSent } = {}) {
  const client = await mqtt.connectAsync(url, {
    clientId: `device-${id}`,
    protocolVersion: 4,
    clean: true,
    keepalive: 30,
    reconnectPeriod: 0,
    will: { topic: statusTopic(id), payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  await client.publishAsync(statusTopic(id), 'online', { qos: 1, retain: true });

  let sent = 0;
  let temperature = 20 + Math.random() * 5;
  let timer = null;
  const tick = async () => {
    temperature += (Math.random() - 0.5) * 0.4;
    const reading = { device: id, seq: sent, temperature: Math.round(temperature * 100) / 100, at: new Date().toISOString() };
    await client.publishAsync(telemetryTopic(id), JSON.stringify(reading), { qos: 1 });
    sent++;
    onSent?.(reading);
    if (sent < count) timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, 0);

  return {
    client,
    async stop() {
      clearTimeout(timer);
      await client.publishAsync(statusTopic(id), 'offline', { qos: 1, retain: true });
      await client.endAsync();
    },
    crash() {
      clearTimeout(timer);
      client.stream.destroy(); // no DISCONNECT: the broker sends the will
      client.end(true);
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const id = process.argv[2] ?? 'sensor-1';
  const device = await startDevice(url, id, { onSent: (r) => console.log(`${id}: ${r.temperature} °C`) });
  process.on('SIGINT', async () => {
    await device.stop();
    process.exit(0);
  });
}
