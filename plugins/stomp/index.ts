/**
 * The STOMP plugin: STOMP 1.0, 1.1 and 1.2 over TCP and WebSocket, mapped onto the core as
 * RabbitMQ's STOMP plugin maps STOMP onto AMQP 0-9-1 (see README.md).
 */
import type { PluginContext, PluginManifest, RunningPlugin } from '../../src/plugin-host/index.js';
import { stompListeners } from './listener.js';
import { CONFIG_SCHEMA, settingsFrom } from './settings.js';

const manifest: PluginManifest = {
  name: 'stomp',
  version: '0.1.0',
  configSection: 'stomp',
  configSchema: CONFIG_SCHEMA,
  enabledByDefault: true,
  async start(ctx: PluginContext): Promise<RunningPlugin> {
    const listener = stompListeners(ctx.core, settingsFrom(ctx.config), ctx.log, ctx.tls);
    await listener.start();
    return {
      accept: (stream, peer) => void listener.accept(stream, peer),
      addresses: () => listener.addresses(),
      stop: (reason) => listener.stop(reason),
    };
  },
};

export default manifest;
