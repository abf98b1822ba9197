/**
 * The write side of one MQTT connection, the base class of MqttConnection (connection.ts: the
 * read side, keep-alive and the end), so that an idle connection is still one object: packets
 * encoded and queued on the corked socket, uncorked with every other connection's after the
 * turn's reads (write-batch.ts) unless held for deferred definitions; backpressure (the session
 * delivers nothing while the socket is full); a PUBLISH whose payload streams from the journal
 * (streamed-publish.ts), the packets sent meanwhile waiting behind it; ending the stream once
 * what is queued has left.
 */
import type { Duplex } from 'node:stream';
import { endStream, type SocketTraffic } from '../../src/frontend/index.js';
import type { LargeBody, Session } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
import { encode, type Packet, type ProtocolVersion } from './codec.js';
import type { MqttContext } from './context.js';
import { OutboundBody, type StreamingConnection } from './streamed-publish.js';
import { flushAfterReads } from './write-batch.js';

export abstract class PacketOutput implements StreamingConnection {
  readonly ctx: MqttContext;
  /** bytes, reads and writes on the socket under it, for management */
  readonly traffic: SocketTraffic;
  version: ProtocolVersion = 4;
  /** the core session (set by CONNECT): told when the socket fills and drains */
  session: Session | null = null;
  /** the client's Maximum Packet Size (MQTT 5 §3.1.2.11.4): larger packets are not sent to it; 0 = no limit */
  clientMaxPacketSize = 0;
  /** a PUBLISH payload streaming from the journal (streamed-publish.ts): what is sent meanwhile waits */
  streaming: OutboundBody | null = null;
  metadataHold = false; // writes held until deferred definitions are durable (write-batch.ts)
  protected readonly stream: Duplex;
  #corked = false;
  #blocked = false;
  #ended = false;

  constructor(ctx: MqttContext, stream: Duplex, traffic: SocketTraffic) {
    this.ctx = ctx;
    this.stream = stream;
    this.traffic = traffic;
  }

  abstract get log(): Logger;

  /** Encode and queue a packet (corked: it leaves after the turn's reads, write-batch.ts). @returns false when not sent: not encodable, or over the client's Maximum Packet Size (MQTT-3.1.2-25) */
  send(packet: Packet): boolean {
    if (this.#ended) return false;
    const bytes = encode(packet, this.version);
    if (!bytes) {
      this.log.warn('packet could not be encoded', { cmd: packet.cmd });
      return false;
    }
    return this.sendBytes(bytes);
  }

  /** Queue an encoded packet (see `send`). */
  sendBytes(bytes: Buffer): boolean {
    if (this.#ended) return false;
    if (this.clientMaxPacketSize > 0 && bytes.length > this.clientMaxPacketSize) return false;
    if (this.streaming !== null) return this.streaming.held.push(bytes) > 0;
    this.ctx.stats.packetsSent++;
    if (!this.#corked) {
      this.#corked = true;
      this.traffic.writes++;
      this.stream.cork();
      flushAfterReads(this);
    }
    if (!this.stream.write(bytes) && !this.#blocked) {
      // backpressure: no more deliveries until the socket drains
      this.#blocked = true;
      this.session?.setWritable(false);
    }
    return true;
  }

  /** A PUBLISH whose payload streams from the journal (streamed-publish.ts); packets sent meanwhile follow it. */
  sendStreamed(head: Buffer, body: LargeBody): void {
    if (this.streaming !== null) return void this.streaming.held.push([head, body]);
    if (!this.sendBytes(head)) return;
    this.flush(); // the header leaves before the payload (written uncorked)
    this.#blocked = true;
    this.session?.setWritable(false);
    this.streaming = new OutboundBody(this, this.stream, body);
  }

  /** Uncork, unless held for deferred definitions; session records are committed first, so a CONNACK's session survives a killed broker. */
  flush(): void {
    if (!this.#corked || this.metadataHold) return;
    this.#corked = false;
    this.ctx.records?.flush();
    this.stream.uncork();
  }

  /** Send what was held for deferred definitions (write-batch.ts), and end the stream if it was ended meanwhile. */
  releaseHeld(): void {
    this.flush();
    if (this.#ended) endStream(this.stream, 2000);
  }

  streamDrained(): void {
    if (this.streaming !== null) return this.streaming.drained();
    if (!this.#blocked) return;
    this.#blocked = false;
    this.session?.setWritable(true);
  }

  destroy(): void {
    this.stream.destroy();
  }

  /** Half-close once what is queued has left (or once what is held for metadata has: holdForMetadata). */
  protected endStream(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.metadataHold) return; // ended once what is held has left (holdForMetadata)
    this.flush();
    endStream(this.stream, 2000);
  }
}
