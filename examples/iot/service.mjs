/**
 * The back end of the IoT example: an AMQP 0-9-1 service (amqplib) that consumes what the
 * MQTT devices publish. MQTT topics arrive on the `amq.topic` exchange with `/` turned into
 * `.`, so `devices/sensor-1/telemetry` is the routing key `devices.sensor-1.telemetry`.
 *
 *   node examples/iot/service.mjs          (AMQP_URL, default amqp://guest:guest@127.0.0.1:5672)
 */
import amqp from 'amqplib';

export const TELEMETRY_QUEUE = 'iot-telemetry';
export const STATUS_QUEUE = 'iot-status';

/**
 * Consume telemetry (a durable queue, acked after handling) and device status changes.
 * Resolves with `stop()` once both consumers are in place.
 */
export async function startService(url, { onTelemetry, onStatus } = {}) {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(50);
  await ch.assertQueue(TELEMETRY_QUEUE, { durable: true });
  await ch.bindQueue(TELEMETRY_QUEUE, 'amq.topic', 'devices.*.telemetry');
  await ch.assertQueue(STATUS_QUEUE, { durable: true });
  await ch.bindQueue(STATUS_QUEUE, 'amq.topic', 'devices.*.status');

  await ch.consume(TELEMETRY_QUEUE, (msg) => {
    if (!msg) return;
    const device = msg.fields.routingKey.split('.')[1];
    // QoS 1 MQTT publishes are persistent AMQP messages (delivery mode 2)
    onTelemetry?.({ device, reading: JSON.parse(msg.content.toString()), persistent: msg.properties.deliveryMode === 2 });
    ch.ack(msg);
  });
  await ch.consume(STATUS_QUEUE, (msg) => {
    if (!msg) return;
    onStatus?.({ device: msg.fields.routingKey.split('.')[1], status: msg.content.toString() });
    ch.ack(msg);
  });

  return {
    async stop() {
      await conn.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  await startService(url, {
    onTelemetry: ({ device, reading }) => console.log(`telemetry ${device}: ${reading.temperature} °C (#${reading.seq})`),
    onStatus: ({ device, status }) => console.log(`status ${device}: ${status}`),
  });
  console.log('service consuming; Ctrl-C to stop');
}
