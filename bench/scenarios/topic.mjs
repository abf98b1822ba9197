/**
 * topic: 1 publisher → topic exchange with B bindings (default 1000), each a
 * distinct pattern, spread over N queues (default 4) → one consumer each.
 * The publisher cycles through B routing keys built so that key i matches
 * binding i and no other; binding i goes to queue i mod N, and each consumer
 * checks that every message it gets carries a key index of its own queue.
 * `msgs_per_s` is messages routed and consumed.
 */
import { isMain, runScenarioCli } from '../lib/scenario-cli.mjs';

/** Binding BATCH at a time: amqplib pipelines them on one channel. */
const BIND_BATCH = 100;

/**
 * Pattern i and the one key that should match it. Four shapes cover the
 * matcher's cases: `*` in the middle, trailing `#`, leading `*`, and a
 * literal key. The first word (or, for the leading `*` shape, the second)
 * carries i, so no key can match another binding's pattern.
 * @param {number} i
 * @returns {{ pattern: string, key: string }}
 */
export function bindingFor(i) {
  switch (i % 4) {
    case 0:
      return { pattern: `r${i}.*.orders`, key: `r${i}.eu.orders` };
    case 1:
      return { pattern: `r${i}.#`, key: `r${i}.eu.orders.new` };
    case 2:
      return { pattern: `*.item${i}.created`, key: `shop.item${i}.created` };
    default:
      return { pattern: `r${i}.eu.orders`, key: `r${i}.eu.orders` };
  }
}

/** @type {import('../lib/coordinator.mjs').Scenario} */
export const scenario = {
  name: 'topic',
  description: '1 publisher -> topic exchange with B distinct bindings over N queues -> N consumers',
  options: {
    queues: { kind: 'int', default: '4', min: 1, help: 'queues the bindings are spread over, one consumer each' },
    bindings: { kind: 'int', default: '1000', min: 1, help: 'distinct binding patterns (binding i goes to queue i mod queues)' },
  },
  async declare(channel, { runId, options }) {
    const exchange = `bench.topic.${runId}`;
    await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
    /** @type {string[]} */
    const queues = [];
    for (let q = 0; q < options.queues; q++) {
      const queue = `bench.topic.${runId}.${q}`;
      await channel.assertQueue(queue, { durable: false, autoDelete: false, exclusive: false });
      queues.push(queue);
    }
    /** @type {string[]} */
    const keys = [];
    for (let start = 0; start < options.bindings; start += BIND_BATCH) {
      const end = Math.min(options.bindings, start + BIND_BATCH);
      /** @type {Promise<unknown>[]} */
      const pending = [];
      for (let i = start; i < end; i++) {
        const { pattern, key } = bindingFor(i);
        keys.push(key);
        pending.push(channel.bindQueue(queues[i % queues.length], exchange, pattern));
      }
      await Promise.all(pending);
    }
    return {
      publisher: { exchange, routingKeys: keys, persistent: false, confirm: false },
      consumers: queues.map((queue, q) => ({ queue, routeCheck: { modulo: queues.length, remainder: q } })),
      copies: 1,
      queues,
      exchanges: [exchange],
      fields: { queues: queues.length, bindings: options.bindings },
    };
  },
};

if (isMain(import.meta.url)) await runScenarioCli(scenario);
