/**
 * transient: 1 publisher → default exchange → 1 non-durable queue → 1 consumer,
 * transient messages, manual acks, prefetch 100. The broker's fastest path:
 * nothing touches the disk.
 */
import { isMain, runScenarioCli } from '../lib/scenario-cli.mjs';

/** @type {import('../lib/coordinator.mjs').Scenario} */
export const scenario = {
  name: 'transient',
  description: '1 publisher -> 1 transient queue -> 1 consumer, manual acks',
  async declare(channel, { runId }) {
    const queue = `bench.transient.${runId}`;
    await channel.assertQueue(queue, { durable: false, autoDelete: false, exclusive: false });
    return {
      // the default exchange routes by queue name (AMQP 0-9-1 §3.1.3.1)
      publisher: { exchange: '', routingKeys: [queue], persistent: false, confirm: false },
      consumers: [{ queue, routeCheck: null }],
      copies: 1,
      queues: [queue],
      exchanges: [],
      fields: { queues: 1 },
    };
  },
};

if (isMain(import.meta.url)) await runScenarioCli(scenario);
