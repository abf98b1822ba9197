/**
 * Dispatch of decoded packets to their handlers, one file per packet type (as Aedes lays
 * out `lib/handlers/`). The connection phase is checked here, once: CONNECT first and only
 * once (MQTT-3.1.0-1, MQTT-3.1.0-2); packets only a server sends are protocol errors.
 */
import type { Packet } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { MqttProtocolError, RC } from '../errors.js';
import { handleAuth } from './auth.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handlePingreq } from './pingreq.js';
import { handlePuback } from './puback.js';
import { handlePubcomp } from './pubcomp.js';
import { handlePublish } from './publish.js';
import { handlePubrec } from './pubrec.js';
import { handlePubrel } from './pubrel.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler takes its own packet type
type Handler = (c: MqttConnection, packet: any) => void;

const HANDLERS: Partial<Record<Packet['cmd'], Handler>> = {
  publish: handlePublish,
  puback: handlePuback,
  pubrec: handlePubrec,
  pubrel: handlePubrel,
  pubcomp: handlePubcomp,
  subscribe: handleSubscribe,
  unsubscribe: handleUnsubscribe,
  pingreq: handlePingreq,
  disconnect: handleDisconnect,
  auth: handleAuth,
};

export function dispatchPacket(c: MqttConnection, packet: Packet): void {
  c.ctx.stats.packetsReceived++;
  if (c.phase === 'awaiting-connect') {
    // MQTT-3.1.0-1: the first packet is CONNECT, or the connection closes (no reply)
    if (packet.cmd !== 'connect') throw new MqttProtocolError(RC.PROTOCOL_ERROR, `${packet.cmd} before CONNECT`);
    handleConnect(c, packet);
    return;
  }
  if (packet.cmd === 'connect') throw new MqttProtocolError(RC.PROTOCOL_ERROR, 'second CONNECT');
  const handler = HANDLERS[packet.cmd];
  if (!handler) throw new MqttProtocolError(RC.PROTOCOL_ERROR, `unexpected ${packet.cmd} from a client`);
  handler(c, packet);
}
