/**
 * The `listeners` of /api/overview: every listener of every running plugin, named as
 * RabbitMQ names them (`rabbit_networking` / the web plugins' `protocol` values, checked
 * against RabbitMQ 3.10: 'amqp/ssl', 'http/web-mqtt', 'https/web-stomp' …).
 */
import type { ListenerAddress } from '../../src/plugin-host/index.js';

/** Warren's listener name → RabbitMQ's protocol name. */
const PROTOCOLS: Readonly<Record<string, string>> = {
  amqp: 'amqp',
  amqps: 'amqp/ssl',
  mqtt: 'mqtt',
  mqtts: 'mqtt/ssl',
  'mqtt-ws': 'http/web-mqtt',
  'mqtt-wss': 'https/web-mqtt',
  stomp: 'stomp',
  stomps: 'stomp/ssl',
  'stomp-ws': 'http/web-stomp',
  'stomp-wss': 'https/web-stomp',
  management: 'http',
  'management-https': 'https',
};

/** A listener's protocol as RabbitMQ's overview shows it; another plugin's listener keeps its own name. */
export function listenerProtocol(name: string): string {
  return PROTOCOLS[name] ?? name;
}

export interface ListenerJson {
  node: string;
  protocol: string;
  ip_address: string;
  port: number;
  socket_opts: Record<string, unknown>;
}

export function listenersJson(node: string, listeners: readonly ListenerAddress[]): ListenerJson[] {
  // Warren sets no socket options an operator chooses: the object is there for RabbitMQ's shape
  return listeners.map((l) => ({ node, protocol: listenerProtocol(l.name), ip_address: l.host, port: l.port, socket_opts: {} }));
}
