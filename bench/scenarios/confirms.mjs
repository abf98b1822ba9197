/**
 * confirms: like transient, but the queue is durable, messages are
 * persistent (delivery-mode 2) and the publisher waits for publisher
 * confirms; the window bounds unconfirmed messages too. This is the path
 * that writes (and, on RabbitMQ, fsyncs) before confirming.
 */
import { isMain, runScenarioCli } from '../lib/scenario-cli.mjs';

/** @type {import('../lib/coordinator.mjs').Scenario} */
export const scenario = {
  name: 'confirms',
  description: '1 publisher (confirm mode, persistent) -> 1 durable queue -> 1 consumer, manual acks',
  async declare(channel, { runId }) {
    const queue = `bench.confirms.${runId}`;
    await channel.assertQueue(queue, { durable: true, autoDelete: false, exclusive: false });
    return {
      publisher: { exchange: '', routingKeys: [queue], persistent: true, confirm: true },
      consumers: [{ queue, routeCheck: null }],
      copies: 1,
      queues: [queue],
      exchanges: [],
      fields: { queues: 1 },
    };
  },
};

if (isMain(import.meta.url)) await runScenarioCli(scenario);
