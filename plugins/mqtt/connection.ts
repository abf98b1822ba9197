/**
 * One MQTT network connection, over TCP or WebSocket (both a byte `Duplex`): parsing, dispatch
 * to the handlers, keep-alive, the end (will, session parking, client ids). Writes (batched,
 * with backpressure, streamed payloads) are its base class, packet-output.ts.
 *
 * Nothing thrown while handling input escapes: a protocol fault ends this connection
 * (DISCONNECT with a reason code in MQTT 5, a plain close in 3.1.1, MQTT-4.13.1-1) and the
 * broker carries on. During a resource alarm packets wait in the publish gate (held-packets.ts).
 */
import { takeOverPublish, type InboundPublish } from './inbound-body.js';
import type { Duplex } from 'node:stream';
import { deadlines, listenTo, PublishGate, SocketTraffic, type ConnectionRegistry, type FrontendConnection, type GateOwner, type Peer, type StreamListener, type Expiring } from '../../src/frontend/index.js';
import { type ConnectionInfo, type CoreConnection, type FlowListener, type ServerCloser, type SessionHandler, isBrokerError, type Message } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
import { packetSize, type Packet } from './codec.js';
import type { PacketSink } from './parsers.js';
import { frameRead, type FramedConnection, type SplitPacket } from './read-framing.js';
import { decodeWholeConnect } from './connect-decoder.js';
import type { ClientConnection, MqttContext } from './context.js';
import { deliverToClient } from './delivery.js';
import { CONNACK_V3, MqttProtocolError, RC, reasonCodeOf } from './errors.js';
import { dispatchPacket } from './handlers/index.js';
import { failHeldPackets, handleHeldPacket } from './held-packets.js';
import { endSession } from './session-end.js';
import { PublishAcks } from './publish-acks.js';
import { PacketIds } from './packet-ids.js';
import { PacketOutput } from './packet-output.js';
import type { SessionState } from './session-state.js';
import type { Subscriptions } from './subscriptions.js';
import type { InboundAliases, OutboundAliases } from './topic-aliases.js';
import type { Will } from './will.js';

export type ConnectionPhase = 'awaiting-connect' | 'open' | 'closed';

let nextConnectionNumber = 1;

export class MqttConnection extends PacketOutput implements FlowListener, PacketSink, FramedConnection, SessionHandler, ClientConnection, FrontendConnection, GateOwner<Packet>, StreamListener, Expiring, ServerCloser, ConnectionInfo {
  readonly peerHost: string;
  readonly peerPort: number;
  readonly transport: 'tcp' | 'ws';
  /**
   * The login name of the client's verified TLS certificate, or null: plain TCP/WebSocket,
   * no certificate, or verify_none. Used by mqtt.ssl_cert_login.
   */
  readonly certName: string | null;
  phase: ConnectionPhase = 'awaiting-connect';

  // ---- set by CONNECT ----
  clientId = '';
  vhost = '';
  user = '';
  /** session key: vhost + client id */
  key = '';
  core: CoreConnection | null = null;
  sessionState: SessionState | null = null;
  subscriptions: Subscriptions | null = null;
  will: Will | null = null;
  inboundAliases: InboundAliases | null = null;
  outboundAliases: OutboundAliases | null = null;
  /** the largest packet accepted from the client */
  maxPacketSize: number;

  // ---- flows (made on first use: an idle device has none) ----
  #packetIds: PacketIds | null = null;
  #acks: PublishAcks | null = null;

  readonly #registry: ConnectionRegistry<MqttConnection>;
  /** only while a packet is split across reads: the parser holding it (parsers.ts, read-framing.ts) */
  #split: SplitPacket | null = null;
  /** a PUBLISH whose payload streams to the journal as it arrives (inbound-body.ts) */
  #inbound: InboundPublish | null = null;
  #keepAliveMs = 0;
  #lastActivity = Date.now();
  /** the connect timeout, then the keep-alive check (src/frontend/deadlines.ts) */
  deadlineToken = 0;
  /** packets held while a resource alarm blocks publishing (held-packets.ts); made on first use */
  #gate: PublishGate<Packet> | null = null;
  readonly #number = nextConnectionNumber++;
  #log: Logger | null = null;
  /** the pending answer to a refused login (refuseLogin) */
  #refusal: NodeJS.Timeout | null = null;

  /** @param registry told when the stream has closed (the listener set) */
  constructor(ctx: MqttContext, stream: Duplex, peer: Peer, registry: ConnectionRegistry<MqttConnection>) {
    super(ctx, stream, new SocketTraffic(peer.socket));
    this.#registry = registry;
    this.peerHost = peer.host;
    this.peerPort = peer.port;
    this.transport = peer.transport;
    this.certName = peer.certName;
    this.maxPacketSize = ctx.settings.maxPacketSizeUnauthenticated;
    listenTo(stream, this);
    // MQTT-3.1.4: a connection that never sends CONNECT does not hold resources for ever
    if (ctx.settings.connectTimeoutMs > 0) deadlines.set(this, Date.now() + ctx.settings.connectTimeoutMs);
  }

  /** packet identifiers of outbound QoS ≥ 1 PUBLISHes in flight */
  get packetIds(): PacketIds {
    if (this.#packetIds === null) {
      this.#packetIds = new PacketIds();
      // a persistent session's record follows them while this is its connection (connect.ts keepRecord)
      const state = this.sessionState;
      if (state !== null && state.live === this) this.#packetIds.changes = state;
    }
    return this.#packetIds;
  }

  /** the identifiers in flight, or null when none was ever taken (nothing to read, nothing made) */
  get packetIdsInUse(): PacketIds | null {
    return this.#packetIds;
  }

  /** PUBACK / PUBREC waiting for the core's confirms (and retained writes) */
  get acks(): PublishAcks {
    return (this.#acks ??= new PublishAcks(this));
  }

  /** ConnectionInfo.protocol, for operators */
  get protocol(): string {
    return this.version === 5 ? 'mqtt-5' : this.version === 4 ? 'mqtt-3.1.1' : 'mqtt-3.1';
  }

  /** ConnectionInfo.name: the client id */
  get name(): string {
    return this.clientId;
  }

  /** The core ends this connection (an operator, through management): MQTT 5 §3.14.2.1 0x98 Administrative action. */
  serverClose(reason: string): void {
    this.protocolError(0x98, reason);
  }

  /** a child logger, made when first needed (an idle connection should cost as little as possible) */
  get log(): Logger {
    return (this.#log ??= this.ctx.log.child({ conn: this.#number, peer: `${this.peerHost}:${this.peerPort}` }));
  }

  get open(): boolean {
    return this.phase === 'open';
  }

  /** a getter, so that checks after a call that may close the connection are not narrowed away */
  get closed(): boolean {
    return this.phase === 'closed';
  }

  // ---- input ----

  streamData(chunk: Buffer): void {
    this.traffic.reads++;
    if (this.phase === 'closed' || this.#refusal !== null) return;
    this.#lastActivity = Date.now();
    try {
      if (this.#inbound !== null) {
        const rest = this.#inbound.push(chunk);
        if (rest === null) return;
        this.#inbound = null;
        if (rest.length === 0 || this.closed) return;
        chunk = rest;
      }
      if (this.phase === 'awaiting-connect' && this.#split === null) {
        // a whole CONNECT in the first read, as nearly every client sends it (connect-decoder.ts)
        const connect = decodeWholeConnect(chunk);
        if (connect !== null) {
          this.parsedPacket(connect.packet);
          if (connect.end === chunk.length || this.closed) return;
          chunk = chunk.subarray(connect.end);
        }
      }
      this.#split = frameRead(this, this.#split, chunk);
    } catch (e) {
      this.handlerFailed(e);
    }
  }

  /** FramedConnection: refuse an oversized packet from its fixed header, before buffering its body */
  packetTooLarge(size: number): void {
    this.protocolError(RC.PACKET_TOO_LARGE, `packet of ${size} bytes exceeds the maximum of ${this.maxPacketSize}`);
  }

  /** FramedConnection: a PUBLISH above large_message_threshold is read into the journal (inbound-body.ts) */
  streamPublish(first: number, remaining: number, rest: Buffer): boolean {
    if (this.phase !== 'open') return false;
    this.#inbound = takeOverPublish(this, this.ctx.core, first, remaining);
    if (this.#inbound === null) return false;
    if (this.#inbound.push(rest) !== null) throw new Error('a streamed PUBLISH ended inside the read that began it');
    return true;
  }

  /** PacketSink: a packet of this connection's stream */
  parsedPacket(packet: Packet): void {
    // a refused login reads nothing more (packets that came with its CONNECT included)
    if (this.phase === 'closed' || this.#refusal !== null) return;
    try {
      if (packet.length !== undefined && packetSize(packet.length) > this.maxPacketSize) {
        // MQTT-3.1.2-24 (server side): DISCONNECT 0x95 Packet too large
        throw new MqttProtocolError(RC.PACKET_TOO_LARGE, 'packet too large');
      }
      // a publish during a resource alarm waits, and so does all that follows it
      if (this.holding || (packet.cmd === 'publish' && this.phase === 'open' && this.ctx.core.alarms.blocked)) {
        (this.#gate ??= new PublishGate<Packet>(this)).hold(packet, this.ctx.core.alarms.settings.publishDeadlineMs);
        return;
      }
      dispatchPacket(this, packet);
    } catch (e) {
      this.handlerFailed(e);
    }
  }

  /** PacketSink: its stream does not parse */
  parseError(e: Error): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'awaiting-connect' && /protocol version/i.test(e.message)) {
      // MQTT-3.1.2-2: CONNACK 0x01 (3.1.1) for a protocol level we do not speak, then close
      this.send({ cmd: 'connack', returnCode: CONNACK_V3.UNACCEPTABLE_PROTOCOL_VERSION, sessionPresent: false });
      return this.#close('unsupported protocol version');
    }
    this.protocolError(RC.MALFORMED_PACKET, `malformed packet: ${e.message}`);
  }

  handlerFailed(e: unknown): void {
    if (e instanceof MqttProtocolError) {
      this.protocolError(e.reasonCode, e.message);
    } else if (isBrokerError(e)) {
      this.protocolError(reasonCodeOf(e), e.message);
    } else {
      this.log.error('MQTT handler failed', { error: (e as Error)?.stack ?? String(e) });
      this.protocolError(RC.UNSPECIFIED_ERROR, 'internal error');
    }
  }

  // ---- resource alarms: the publish gate (held-packets.ts) ----

  /** whether packets wait for a resource alarm to clear (and the socket is not read) */
  get holding(): boolean {
    return this.#gate !== null && this.#gate.holding;
  }

  setReading(reading: boolean): void {
    if (!reading) return void this.stream.pause();
    this.#lastActivity = Date.now();
    if (this.core?.flowHeld === true) return; // a queue holds it: src/core/publisher-flow.ts
    this.stream.resume();
  }

  /** A queue this published to holds it (false) or let it go (true): src/core/publisher-flow.ts. */
  queueFlow(flowing: boolean): void {
    if (!flowing) this.stream.pause();
    else if (!this.holding) this.setReading(true);
  }

  handleHeld(packet: Packet): boolean {
    return handleHeldPacket(this, packet);
  }

  heldTooLong(packets: Packet[]): boolean {
    return failHeldPackets(this, packets);
  }

  streamError(e: Error): void {
    if (this.ctx.log.enabled('debug')) this.log.debug('connection error', { error: e.message });
    this.teardown(true);
  }

  streamEnded(): void {
    this.teardown(true);
  }

  streamClosed(): void {
    this.teardown(true);
    this.ctx.stats.closed(this);
    this.#registry.closed(this);
  }

  // ---- keep-alive ----

  /** MQTT-3.1.2-24: no packet for 1.5 × the keep-alive interval ends the connection. */
  startKeepAlive(seconds: number): void {
    this.#keepAliveMs = seconds > 0 ? seconds * 1500 : 0;
    if (seconds > 0) deadlines.set(this, Date.now() + this.#keepAliveMs);
    else deadlines.clear(this);
  }

  /** The connect timeout or a keep-alive interval passed. */
  deadlinePassed(): void {
    if (this.phase === 'awaiting-connect') return this.#close('no CONNECT in time');
    if (this.phase !== 'open' || this.#keepAliveMs === 0) return;
    // not reading (a resource alarm, publisher flow, a large body's journal behind) is our doing, not the client's silence
    if (this.holding || this.core?.flowHeld === true || this.stream.isPaused()) this.#lastActivity = Date.now();
    const idle = Date.now() - this.#lastActivity;
    if (idle >= this.#keepAliveMs) this.protocolError(RC.KEEP_ALIVE_TIMEOUT, 'keep-alive timeout');
    else deadlines.set(this, Date.now() + this.#keepAliveMs - idle);
  }

  // ---- the end ----

  /**
   * A refused login (bad credentials, loopback-only user, no access to the vhost): logged once
   * and answered by `answer` (CONNACK with the refusal, then close) after `auth.failure_delay`
   * (src/auth/login-failures.ts). Nothing is read meanwhile; other clients carry on.
   */
  refuseLogin(user: string, reason: string, answer: () => void): void {
    deadlines.clear(this);
    this.stream.pause();
    const protocol = this.version === 5 ? 'mqtt-5' : this.version === 4 ? 'mqtt-3.1.1' : 'mqtt-3.1';
    this.#refusal = this.ctx.core.loginFailures.refuse({ protocol, peerHost: this.peerHost, peerPort: this.peerPort, user, reason }, () => {
      this.#refusal = null;
      if (this.phase === 'closed') return;
      this.stream.resume();
      answer();
    });
  }

  /** A protocol fault: DISCONNECT with the reason (MQTT 5, after CONNACK) or a plain close; the will is published. */
  protocolError(reasonCode: number, why: string): void {
    if (this.phase === 'closed') return;
    // info, like every refusal (docs/security.md): a limit or a protocol fault must leave a line at the default level
    this.log.info('closing MQTT connection', { reason: why, code: reasonCode });
    if (this.version === 5 && this.phase === 'open') {
      this.send({ cmd: 'disconnect', reasonCode, properties: { reasonString: why.slice(0, 200) } });
    }
    this.#close(why);
  }

  /** The client sent DISCONNECT: a normal end (no will, unless it asked for it with 0x04). */
  clientDisconnected(publishWill: boolean): void {
    if (!publishWill) this.will = null;
    this.teardown(publishWill);
    this.endStream();
  }

  /** Another connection with the same client id arrived (MQTT-3.1.4-3). */
  takeOver(): void {
    if (this.version === 5 && this.phase === 'open') this.send({ cmd: 'disconnect', reasonCode: RC.SESSION_TAKEN_OVER });
    this.#close('session taken over');
  }

  /** A resource alarm cleared: what was held goes on (a new alarm holds at the next PUBLISH). */
  alarmChanged(reason: string | null): void {
    if (reason === null) this.#gate?.release();
  }

  /** The plugin stops: tell MQTT 5 clients why (0x8B Server shutting down); wills are not published. */
  shutdown(): void {
    if (this.version === 5 && this.phase === 'open') this.send({ cmd: 'disconnect', reasonCode: RC.SERVER_SHUTTING_DOWN });
    this.will = null;
    this.teardown(false);
    this.endStream();
  }

  #close(why: string): void {
    this.log.debug('connection closed by the server', { reason: why });
    this.teardown(true);
    this.endStream();
  }

  /**
   * Release everything the connection holds. `abnormal`: it ended without a normal
   * DISCONNECT, so its will is due (MQTT-3.1.2-8). Idempotent.
   */
  teardown(abnormal: boolean): void {
    if (this.phase === 'closed') return;
    const wasOpen = this.phase === 'open';
    this.phase = 'closed';
    this.#inbound?.abort(); // a payload cut off mid-way: its parts are garbage
    deadlines.clear(this);
    if (this.#refusal) clearTimeout(this.#refusal);
    this.#refusal = null;
    this.#gate?.drop();
    if (!wasOpen) return;
    endSession(this, abnormal);
    this.will = null;
  }

  // ---- SessionHandler: the core calls these ----

  deliver(consumerTag: string, deliveryTag: number, redelivered: boolean, message: Message): void {
    deliverToClient(this, consumerTag, deliveryTag, redelivered, message);
  }

  confirmed(token: number, ack: boolean, error: Error | null): void {
    this.acks.confirmed(token, ack, error);
  }

  returned(_message: Message, _replyCode: number, _replyText: string): void {
    this.acks.noteUnrouted();
  }

  consumerCancelled(consumerTag: string): void {
    this.log.warn('subscription queue deleted by someone else', { consumer: consumerTag });
    this.subscriptions?.dropGroup(consumerTag);
  }
}
