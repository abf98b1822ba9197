/**
 * The MQTT plugin: MQTT 3.1, 3.1.1 and 5.0 over TCP and WebSocket, mapped onto the core's
 * exchanges and queues as RabbitMQ's MQTT plugin does. See README.md for the design.
 */
import type { PluginManifest, RunningPlugin } from '../../src/plugin-host/index.js';
import { MQTT_CONFIG_SCHEMA, settingsFrom } from './config.js';
import { MqttContext } from './context.js';
import { restoreSessions } from './session-restore.js';
import { SysTopics } from './sys-topics.js';
import { mqttListeners } from './listener.js';

const manifest: PluginManifest = {
  name: 'mqtt',
  version: '0.1.0',
  configSection: 'mqtt',
  configSchema: MQTT_CONFIG_SCHEMA,
  enabledByDefault: true,
  async start(ctx): Promise<RunningPlugin> {
    const settings = settingsFrom(ctx.config);
    const mqtt = new MqttContext(ctx.core, settings, ctx.log);
    restoreSessions(mqtt);
    mqtt.sys = new SysTopics(mqtt, manifest.version);
    const listeners = mqttListeners(mqtt, ctx.tls);
    try {
      await listeners.start();
      mqtt.sys.start();
    } catch (e) {
      await listeners.stop('start failed');
      mqtt.close();
      throw e;
    }
    return {
      addresses: () => listeners.addresses(),
      accept: (stream, peer) => void listeners.accept(stream, peer),
      async stop(reason) {
        await listeners.stop(reason);
        mqtt.close();
      },
    };
  },
};

export default manifest;
