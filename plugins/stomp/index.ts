/**
 * The STOMP plugin: STOMP 1.0, 1.1 and 1.2 over TCP and WebSocket, mapped onto the core as
 * RabbitMQ's STOMP plugin maps STOMP onto AMQP 0-9-1 (see README.md).
 */
import type { PluginContext, PluginManifest, RunningPlugin } from '../../src/plugin-host/index.js';
import { StompListener } from './listener.js';
import { CONFIG_SCHEMA, settingsFrom } from './settings.js';

const manifest: PluginManifest = {
  name: 'stomp',
  version: '0.1.0',
  configSection: 'stomp',
  configSchema: CONFIG_SCHEMA,
  enabledByDefault: true,
  async start(ctx: PluginContext): Promise<RunningPlugin> {
    const listener = new StompListener(ctx.core, settingsFrom(ctx.config), ctx.log, ctx.tls);
    await listener.start();
    for (const a of listener.addresses()) ctx.log.info('STOMP listener started', { listener: a.name, host: a.host, port: a.port });
    return {
      addresses: () => listener.addresses(),
      stop: (reason) => listener.stop(reason),
    };
  },
};

export default manifest;
