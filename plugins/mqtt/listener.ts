/**
 * The MQTT listeners, built on the front-end kit's listener set: TCP, and WebSocket on its
 * own HTTP server (path `/ws`, subprotocol `mqtt`, MQTT 5 §6); and, off by default, the same
 * two over TLS (MQTTS 8883, WSS 15676) with the broker-wide ssl_options. All hand each client
 * to an `MqttConnection` as a byte stream (a WebSocket as one too), with the login name of a
 * verified client certificate (mqtt.ssl_cert_login); `accept` takes any other byte stream.
 */
import { ListenerSet } from '../../src/frontend/index.js';
import type { TlsListeners } from '../../src/tls/index.js';
import { MqttConnection } from './connection.js';
import type { MqttContext } from './context.js';

export function mqttListeners(ctx: MqttContext, tls: TlsListeners | null = null): ListenerSet<MqttConnection> {
  const s = ctx.settings;
  return new ListenerSet<MqttConnection>({
    protocol: 'MQTT',
    listen: s,
    env: { log: ctx.log, alarms: ctx.core.alarms, tls },
    // the connect timeout bounds the TLS handshake too: a client that stalls in it holds no more
    handshakeTimeoutMs: s.connectTimeoutMs > 0 ? s.connectTimeoutMs : 10_000,
    webSocket: {
      path: s.wsPath,
      protocols: ['mqtt', 'mqttv3.1'],
      // a WebSocket message holds at least one MQTT packet's worth, never more than a few
      maxPayload: s.maxPacketSizeAuthenticated + 16,
      upgradeRequired: 'MQTT over WebSocket: upgrade required',
    },
    open(stream, peer, registry) {
      const c = new MqttConnection(ctx, stream, peer, registry);
      ctx.stats.opened(c);
      return c;
    },
  });
}
