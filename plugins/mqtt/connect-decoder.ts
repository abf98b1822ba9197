/**
 * The first read of nearly every MQTT 3.1 / 3.1.1 connection is one whole CONNECT: decoded here
 * straight from the buffer into the packet mqtt-packet would emit, without lending the
 * connection a parser (parsers.ts) and its buffer list, at a connect storm's rate. Anything
 * else — MQTT 5 (properties), a CONNECT split across reads, any field mqtt-packet would refuse
 * or read otherwise — is left to mqtt-packet (`null`), which then reads the same bytes from the
 * start and answers as it always has: this is a shortcut for the common case, never a second
 * opinion on the protocol (MQTT 3.1.1 §3.1; test/plugins/mqtt/connect-decoder.test.ts compares
 * the two on generated and random packets).
 */
import type { IConnectPacket } from 'mqtt-packet';

/** A CONNECT decoded from the start of a read, and where the bytes after it begin. */
export interface WholeConnect {
  packet: IConnectPacket;
  end: number;
}

const USERNAME = 0x80;
const PASSWORD = 0x40;
const WILL_RETAIN = 0x20;
const WILL_QOS = 0x18;
const WILL = 0x04;
const CLEAN = 0x02;
const RESERVED = 0x01;

/** @returns the CONNECT at the start of `b`, or null: not one this file reads (mqtt-packet does) */
export function decodeWholeConnect(b: Buffer): WholeConnect | null {
  if (b.length < 14 || b[0] !== 0x10) return null;
  // remaining length (MQTT 3.1.1 §2.2.3): up to 4 bytes, 7 bits each
  let length = 0;
  let at = 1;
  for (let shift = 0; ; shift += 7) {
    if (at >= b.length || shift > 21) return null;
    const byte = b[at++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
  }
  const end = at + length;
  if (end > b.length) return null;
  // protocol name and level: 'MQTT' 4 or 'MQIsdp' 3 (MQTT 5 has properties: mqtt-packet's)
  let version: 3 | 4;
  if (b[at] === 0 && b[at + 1] === 4 && b[at + 2] === 0x4d && b[at + 3] === 0x51 && b[at + 4] === 0x54 && b[at + 5] === 0x54 && b[at + 6] === 4) {
    version = 4;
    at += 7;
  } else if (b[at] === 0 && b[at + 1] === 6 && b.toString('latin1', at + 2, at + 8) === 'MQIsdp' && b[at + 8] === 3) {
    version = 3;
    at += 9;
  } else {
    return null;
  }
  if (at + 3 > end) return null;
  const flags = b[at]!;
  // the reserved bit, will QoS 3, or will retain/QoS without a will: mqtt-packet's refusals
  if ((flags & RESERVED) !== 0 || (flags & WILL_QOS) === WILL_QOS || ((flags & WILL) === 0 && (flags & (WILL_RETAIN | WILL_QOS)) !== 0)) return null;
  const keepalive = b.readUInt16BE(at + 1);
  at += 3;

  const clientId = field(b, at, end);
  if (clientId < 0) return null;
  const packet: IConnectPacket = {
    cmd: 'connect',
    retain: false,
    qos: 0,
    dup: false,
    length,
    topic: null,
    payload: null,
    protocolId: version === 4 ? 'MQTT' : 'MQIsdp',
    protocolVersion: version,
    clean: (flags & CLEAN) !== 0,
    keepalive,
    clientId: b.toString('utf8', at + 2, clientId),
  } as IConnectPacket;
  at = clientId;
  if ((flags & WILL) !== 0) {
    const topic = field(b, at, end);
    if (topic < 0) return null;
    const payload = field(b, topic, end);
    if (payload < 0) return null;
    packet.will = { retain: (flags & WILL_RETAIN) !== 0, qos: ((flags & WILL_QOS) >> 3) as 0 | 1 | 2, topic: b.toString('utf8', at + 2, topic), payload: b.subarray(topic + 2, payload) };
    at = payload;
  }
  if ((flags & USERNAME) !== 0) {
    const username = field(b, at, end);
    if (username < 0) return null;
    packet.username = b.toString('utf8', at + 2, username);
    at = username;
  }
  if ((flags & PASSWORD) !== 0) {
    const password = field(b, at, end);
    if (password < 0) return null;
    packet.password = b.subarray(at + 2, password);
    at = password;
  }
  // bytes left over inside the packet: mqtt-packet's to read (it ignores them)
  return at === end ? { packet, end } : null;
}

/** The end of the length-prefixed field at `at`, or -1 when it runs past `end`. */
function field(b: Buffer, at: number, end: number): number {
  if (at + 2 > end) return -1;
  const fieldEnd = at + 2 + b.readUInt16BE(at);
  return fieldEnd > end ? -1 : fieldEnd;
}
