/**
 * The WebSocket listener: the endpoint path, the `mqtt` subprotocol, and plain HTTP
 * requests. (Publish/subscribe over WebSocket is in pubsub.test.ts, for both versions.)
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Clients, Inbox, startMqttBroker, type MqttTestBroker } from './helpers.js';

let b: MqttTestBroker;
beforeAll(async () => {
  b = await startMqttBroker({ ws_path: '/mqtt-ws' });
});
afterAll(async () => {
  await b?.stop();
});

function upgrade(path: string, protocols: string[]): Promise<{ ok: boolean; protocol?: string; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${b.wsPort}${path}`, protocols);
    ws.on('open', () => {
      resolve({ ok: true, protocol: ws.protocol });
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => resolve({ ok: false, status: res.statusCode }));
    ws.on('error', () => resolve({ ok: false }));
  });
}

describe('WebSocket endpoint', () => {
  it('accepts MQTT on the configured path and picks the mqtt subprotocol', async () => {
    expect(await upgrade('/mqtt-ws', ['mqtt'])).toEqual({ ok: true, protocol: 'mqtt' });
    expect(await upgrade('/mqtt-ws', ['mqttv3.1'])).toEqual({ ok: true, protocol: 'mqttv3.1' });
  });

  it('refuses other paths with 404', async () => {
    expect(await upgrade('/ws', ['mqtt'])).toMatchObject({ ok: false });
    expect(await upgrade('/other', ['mqtt'])).toMatchObject({ ok: false });
  });

  it('answers a plain HTTP request with 426 Upgrade Required', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: b.wsPort, path: '/mqtt-ws' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(426);
  });

  it('carries MQTT 5 with MQTT.js on the configured path', async () => {
    const clients = new Clients(b.url);
    try {
      const c = await clients.connect({ clientId: 'ws-path', protocolVersion: 5 }, `ws://127.0.0.1:${b.wsPort}/mqtt-ws`);
      const inbox = new Inbox(c);
      await c.subscribeAsync('ws/t', { qos: 2 });
      await c.publishAsync('ws/t', 'over ws', { qos: 2 });
      await inbox.waitFor(1);
      expect(inbox.messages[0].packet.qos).toBe(2);
    } finally {
      await clients.closeAll();
    }
  });
});
