/**
 * Who is online right now? An MQTT client that subscribes to every device's retained status:
 * the broker hands it the last retained status of each device straight away, without waiting
 * for anything new to be published.
 *
 *   node examples/iot/dashboard.mjs        (MQTT_URL, default mqtt://127.0.0.1:1883)
 */
import mqtt from 'mqtt';

/** The retained status of every device, as the broker has it now. */
export async function readStatuses(url, { settleMs = 300 } = {}) {
  const client = await mqtt.connectAsync(url, { clientId: `dashboard-${process.pid}-${Date.now()}`, reconnectPeriod: 0 });
  const statuses = {};
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) statuses[topic.split('/')[1]] = payload.toString();
  });
  await client.subscribeAsync('devices/+/status', { qos: 1 });
  await new Promise((r) => setTimeout(r, settleMs));
  await client.endAsync();
  return statuses;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  console.table(await readStatuses(url));
}
