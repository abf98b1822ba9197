/**
 * The AMQP 0-9-1 plugin: RabbitMQ-compatible AMQP over TCP. See README.md for the design.
 */
import type { PluginManifest, RunningPlugin } from '../../src/plugin-host/index.js';
import { amqpListeners } from './listener.js';
import { AMQP_CONFIG_SCHEMA, settingsFrom } from './settings.js';

const manifest: PluginManifest = {
  name: 'amqp',
  version: '0.1.0',
  configSection: 'amqp',
  configSchema: AMQP_CONFIG_SCHEMA,
  enabledByDefault: true,
  async start(ctx): Promise<RunningPlugin> {
    const listener = amqpListeners(ctx.core, settingsFrom(ctx.config), ctx.log, ctx.tls);
    await listener.start();
    return {
      accept: (stream, peer) => void listener.accept(stream, peer),
      addresses: () => listener.addresses(),
      stop: (reason) => listener.stop(reason),
    };
  },
};

export default manifest;
