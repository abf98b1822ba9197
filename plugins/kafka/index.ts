/**
 * The Kafka plugin: Kafka's wire protocol (the versions kafkajs 2.2 and librdkafka 2.x
 * negotiate) over the stream queues — a topic's partitions are streams, consumer groups'
 * committed offsets are the streams' stored offsets (see README.md).
 */
import type { PluginContext, PluginManifest, RunningPlugin } from '../../src/plugin-host/index.js';
import { KafkaBroker } from './broker.js';
import { kafkaListeners } from './listener.js';
import { CONFIG_SCHEMA, settingsFrom } from './settings.js';
import { kafkaViewOf } from './view.js';

const manifest: PluginManifest = {
  name: 'kafka',
  version: '0.1.0',
  configSection: 'kafka',
  configSchema: CONFIG_SCHEMA,
  enabledByDefault: true,
  async start(ctx: PluginContext): Promise<RunningPlugin> {
    const broker = new KafkaBroker(ctx.core, settingsFrom(ctx.config), ctx.log);
    const listener = kafkaListeners(broker, ctx.tls);
    try {
      await listener.start();
    } catch (e) {
      broker.stop();
      throw e;
    }
    return {
      addresses: () => listener.addresses(),
      accept: (stream, peer) => void listener.accept(stream, peer),
      kafka: kafkaViewOf(broker),
      async stop(reason) {
        broker.stop();
        await listener.stop(reason);
      },
    };
  },
};

export default manifest;
