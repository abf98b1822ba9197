/**
 * fanout: 1 publisher → fanout exchange → N queues (default 4) → one
 * consumer each. Every message is delivered N times; `msgs_per_s` and
 * `deliveries_per_s` count deliveries consumed, `published_per_s` counts
 * messages published.
 */
import { isMain, runScenarioCli } from '../lib/scenario-cli.mjs';

/** @type {import('../lib/coordinator.mjs').Scenario} */
export const scenario = {
  name: 'fanout',
  description: '1 publisher -> fanout exchange -> N queues -> N consumers, manual acks',
  options: {
    queues: { kind: 'int', default: '4', min: 1, help: 'queues bound to the fanout exchange, one consumer each' },
  },
  async declare(channel, { runId, options }) {
    const exchange = `bench.fanout.${runId}`;
    await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: false });
    /** @type {string[]} */
    const queues = [];
    for (let i = 0; i < options.queues; i++) {
      const queue = `bench.fanout.${runId}.${i}`;
      await channel.assertQueue(queue, { durable: false, autoDelete: false, exclusive: false });
      await channel.bindQueue(queue, exchange, ''); // a fanout exchange ignores the key (AMQP 0-9-1 §3.1.3.2)
      queues.push(queue);
    }
    return {
      publisher: { exchange, routingKeys: ['any'], persistent: false, confirm: false },
      consumers: queues.map((queue) => ({ queue, routeCheck: null })),
      copies: queues.length,
      queues,
      exchanges: [exchange],
      fields: { queues: queues.length },
    };
  },
  addFields(result) {
    result.deliveries_per_s = result.msgs_per_s;
  },
};

if (isMain(import.meta.url)) await runScenarioCli(scenario);
