/**
 * One AMQP 0-9-1 client connection: the socket, the protocol header, the frame stream, the
 * channel slots (channel-slots.ts), heartbeats, batched writes with backpressure, publishes held
 * by a resource alarm (held-publishes.ts), and how the connection ends.
 * Its states are drawn in connection-state.ts. Which frame goes where (channel 0 to the
 * handshake handlers in handlers/connection.ts, other channels to their `AmqpChannel`) is
 * frame-router.ts.
 */
import type { Duplex } from 'node:stream';
import type { CoreConnection, FlowListener, ProtocolCore } from '../../src/core/index.js';
import type { FieldTable } from '../../src/codec/index.js';
import type { Logger } from '../../src/log/index.js';
import { deadlines, destroyStream, listenTo, readIntoOwnedBuffers, sharedShortRead, PublishGate, SocketTraffic, type ConnectionRegistry, type Expiring, type FrontendConnection, type GateOwner, type OwnedReader, type Peer, type StreamListener } from '../../src/frontend/index.js';
import type { AmqpChannel } from './channel.js';
import { ChannelSlots } from './channel-slots.js';
import { PROTOCOL_HEADER, checkProtocolHeader } from './codec/constants.js';
import { FrameReader } from './codec/frame-reader.js';
import { M, encodeMethodFrame } from './codec/methods.js';
import { loggedCloseReason } from './errors.js';
import { FrameRouter } from './frame-router.js';
import { FrameWriter, type WriterOwner } from './frame-writer.js';
import { notifyBlocked, sendStart } from './handlers/connection.js';
import { HeartbeatMonitor, type HeartbeatOwner } from './heartbeat.js';
import type { AmqpSettings } from './settings.js';
import { failHeldPublishes, type HeldPublish } from './held-publishes.js';
import type { ClientCapabilities, ConnectionState } from './connection-state.js';

/** How long to wait for connection.close-ok after sending connection.close. */
const CLOSE_OK_TIMEOUT_MS = 3000;
/** On broker stop, a shorter wait: the broker is going away either way. */
const STOP_CLOSE_OK_TIMEOUT_MS = 1000;

let nextConnectionId = 1;

export class AmqpConnection implements FlowListener, WriterOwner, GateOwner<HeldPublish>, FrontendConnection, StreamListener, OwnedReader, Expiring, HeartbeatOwner {
  readonly id = nextConnectionId++;
  readonly core: ProtocolCore;
  readonly settings: AmqpSettings;
  readonly log: Logger;
  readonly writer: FrameWriter;
  readonly peerHost: string;
  readonly peerPort: number;
  /**
   * The login name of the client's verified TLS certificate (its CN by default), or null:
   * plain TCP, no certificate, or verify_none. Only then is EXTERNAL offered.
   */
  readonly certName: string | null;
  state: ConnectionState = 'awaiting-header';
  /** negotiated in tune-ok; the server's limits until then */
  channelMax: number;
  frameMax: number;
  heartbeat = 0;
  user = '';
  vhost = '';
  clientProperties: FieldTable = {};
  capabilities: ClientCapabilities = { consumerCancelNotify: false, authenticationFailureClose: false, connectionBlocked: false };
  readonly #socket: Duplex;
  readonly #registry: ConnectionRegistry<AmqpConnection>;
  #core: CoreConnection | null = null;
  #reader: FrameReader | null = null;
  #headerBytes: Buffer | null = null;
  readonly #channels = new ChannelSlots();
  #heartbeat: HeartbeatMonitor | null = null;
  /** the handshake timeout (src/frontend/deadlines.ts) */
  deadlineToken = 0;
  #closeTimer: NodeJS.Timeout | null = null;
  /** publishes held while a resource alarm blocks publishing (held-publishes.ts) */
  readonly gate = new PublishGate<HeldPublish>(this);
  /** where frames go once the protocol header was accepted; it also keeps them while a reply waits for the replicas */
  router: FrameRouter | null = null;

  /** @param registry told when the connection has ended (the listener set) */
  constructor(socket: Duplex, peer: Peer, core: ProtocolCore, settings: AmqpSettings, log: Logger, registry: ConnectionRegistry<AmqpConnection>) {
    this.#socket = socket;
    this.certName = peer.certName;
    this.core = core;
    this.settings = settings;
    this.#registry = registry;
    this.peerHost = peer.host;
    this.peerPort = peer.port;
    this.log = log.child({ conn: this.id, peer: `${this.peerHost}:${this.peerPort}` });
    this.channelMax = settings.channelMax;
    this.frameMax = settings.frameMax;
    this.writer = new FrameWriter(socket, this, new SocketTraffic(peer.socket));
    listenTo(socket, this);
    readIntoOwnedBuffers(socket, this); // a TCP socket: no buffer allocated per read (src/frontend/owned-reads.ts)
    deadlines.set(this, Date.now() + settings.handshakeTimeoutMs);
    this.log.debug('accepting AMQP connection');
  }

  // ---- resource alarms: the publish gate (held-publishes.ts) ----------------------------------

  /** RabbitMQ's connection.blocked / unblocked to clients that asked; on clear, what was held is published. */
  alarmChanged(reason: string | null): void {
    notifyBlocked(this, reason);
    if (reason === null) this.gate.release();
  }

  handleHeld(h: HeldPublish): true {
    h.channel.publishNow(h.message, h.mandatory, h.seq);
    return true;
  }

  heldTooLong(held: HeldPublish[]): false {
    return failHeldPublishes(this, held);
  }

  /** publishes wait for a resource alarm to clear (the gate resumes reading) */
  get holding(): boolean {
    return this.gate.holding;
  }

  /**
   * Stop or resume reading the socket; the heartbeat monitor knows the silence is ours. While
   * a queue holds the connection (publisher flow) it stays paused until `queueFlow(true)`.
   */
  setReading(reading: boolean): void {
    if (reading && this.#core !== null && this.#core.flowHeld) return;
    if (this.#heartbeat !== null) this.#heartbeat.paused = !reading;
    if (!reading) this.#socket.pause();
    else if (this.state === 'running') this.#socket.resume();
  }

  /** A queue this published to holds it (false) or let it go (true): src/core/publisher-flow.ts. */
  queueFlow(flowing: boolean): void {
    if (!flowing) this.setReading(false);
    else if (!this.gate.paused && this.router?.keeping !== true) this.setReading(true);
  }

  // ---- input -------------------------------------------------------------------------------

  streamData(chunk: Buffer): void {
    this.ownedRead(chunk, chunk.length);
  }

  /**
   * A body frame being assembled in place takes the next read itself: no copy of its bytes.
   * After a large one, a short read (the frame end, the next method and header, the start of
   * the next body): the rest of that body is then read in place too.
   */
  readInto(): Buffer | null {
    const reader = this.#reader;
    if (reader === null) return null;
    return reader.readRoom() ?? (reader.shortReadDue ? sharedShortRead() : null);
  }

  /** `n` bytes read into `buf` (a shared read buffer: nothing may keep a view of it) */
  ownedRead(buf: Buffer, n: number): void {
    this.writer.traffic.reads++;
    this.#onData(buf, n);
  }

  streamError(e: Error): void {
    this.log.debug('socket error', { error: e.message });
  }

  streamDrained(): void {
    this.writer.drained();
  }

  #onData(chunk: Buffer, n: number): void {
    if (this.#heartbeat !== null) this.#heartbeat.received = true;
    if (this.#reader !== null) {
      try {
        this.#reader.pushRead(chunk, n);
        if (this.#heartbeat !== null && this.#channels.awaitingAcks()) this.writer.answerRead();
      } catch (e) {
        // the frame stream cannot be trusted any more: say why, then hang up
        this.#reader = null;
        this.fail(e, 0);
        this.endSocket();
      }
    } else if (this.state === 'awaiting-header') {
      this.#onProtocolHeader(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
  }

  #onProtocolHeader(chunk: Buffer): void {
    const buf = this.#headerBytes === null ? chunk : Buffer.concat([this.#headerBytes, chunk]);
    const check = checkProtocolHeader(buf);
    this.#headerBytes = check === 'incomplete' ? Buffer.from(buf) : null;
    if (check === 'incomplete') return;
    if (check === 'bad') {
      // AMQP 0-9-1 §4.2.2: answer with the header we speak, then close
      this.log.info('unsupported protocol header, closing', { header: buf.subarray(0, 8).toString('hex') });
      this.#socket.write(PROTOCOL_HEADER);
      this.state = 'closing';
      this.endSocket();
      return;
    }
    this.state = 'starting';
    this.router = new FrameRouter(this, this.#channels);
    this.#reader = new FrameReader(this.router, this.settings.frameMax);
    sendStart(this);
    if (buf.length > PROTOCOL_HEADER.length) this.#onData(buf.subarray(PROTOCOL_HEADER.length), buf.length - PROTOCOL_HEADER.length);
  }

  // ---- channels (frame-router.ts opens them and routes their frames) ---------------------------

  /** the core side of the connection once connection.open is accepted */
  get coreConnection(): CoreConnection | null {
    return this.#core;
  }

  /** The channel is closed on both sides: free its number. */
  releaseChannel(ch: AmqpChannel): void {
    this.#channels.release(ch);
  }

  queueConfirmFlush(ch: AmqpChannel): void {
    this.#channels.queueConfirmFlush(ch);
  }

  // ---- WriterOwner -------------------------------------------------------------------------

  beforeFlush(): void {
    this.#channels.flushQueuedConfirms();
  }

  writableChanged(writable: boolean): void {
    this.#channels.setWritable(writable);
  }

  // ---- handshake steps (called by handlers/connection.ts) ----------------------------------

  /** tune-ok accepted: frame limits and heartbeats take effect. */
  tuned(channelMax: number, frameMax: number, heartbeat: number): void {
    this.channelMax = channelMax;
    this.frameMax = frameMax;
    this.heartbeat = heartbeat;
    this.#reader!.frameMax = frameMax;
    if (heartbeat > 0) this.#heartbeat = new HeartbeatMonitor(heartbeat, this.writer, this);
    this.state = 'opening';
  }

  /** connection.open accepted by the core. */
  opened(core: CoreConnection): void {
    this.#core = core;
    core.onServerClose = (reason) => this.shutdown(reason);
    core.flow = this;
    this.state = 'running';
    deadlines.clear(this);
  }

  /**
   * A refused login (bad credentials at start-ok, or no access to the vhost at open): logged
   * once and answered after `auth.failure_delay` (src/auth/login-failures.ts), reading nothing
   * more meanwhile. `replyText` null drops the socket without a connection.close: RabbitMQ's
   * answer to a bad login from a client without the authentication_failure_close capability.
   */
  refuseLogin(user: string, reason: string, replyCode: number, replyText: string | null, methodId: number): void {
    this.state = 'closing';
    deadlines.clear(this);
    this.#socket.pause();
    const failure = { protocol: 'amqp-0-9-1', peerHost: this.peerHost, peerPort: this.peerPort, user, reason };
    this.#closeTimer = this.core.loginFailures.refuse(failure, () => {
      this.#closeTimer = null;
      if (this.state === 'closed') return;
      if (replyText === null) return void this.#socket.destroy();
      this.#sendClose(replyCode, replyText, methodId, CLOSE_OK_TIMEOUT_MS);
      this.#socket.resume();
    });
  }

  // ---- ending --------------------------------------------------------------------------------

  /**
   * An error while handling input: BrokerErrors close the connection with their code (hard
   * errors; soft ones reach here only from outside a channel); anything else is a bug:
   * 541 INTERNAL_ERROR, logged with its stack.
   */
  fail(error: unknown, methodId: number): void {
    const reason = loggedCloseReason(this.log, error, methodId);
    this.close(reason.replyCode, reason.replyText, methodId > 0 ? methodId : 0, CLOSE_OK_TIMEOUT_MS);
  }

  /** `fail` from inside a core callback: after the core has finished what it was doing. */
  failLater(error: unknown): void {
    setImmediate(() => this.fail(error, 0));
  }

  /**
   * Send connection.close and wait (up to `timeoutMs`) for close-ok; sessions end at once so
   * nothing more is delivered (RabbitMQ ends the channels when it sends the close).
   */
  close(replyCode: number, replyText: string, methodId: number, timeoutMs: number): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.#releaseCore();
    this.#sendClose(replyCode, replyText, methodId, timeoutMs);
  }

  /** connection.close out now; the socket is cut if close-ok has not come within `timeoutMs`. */
  #sendClose(replyCode: number, replyText: string, methodId: number, timeoutMs: number): void {
    this.writer.write(encodeMethodFrame(0, { id: M.connectionClose, replyCode, replyText, classId: methodId >>> 16, methodId: methodId & 0xffff }));
    this.writer.flush();
    this.#closeTimer = setTimeout(destroyStream, timeoutMs, this.#socket);
  }

  /** The client's connection.close: everything ends, close-ok, hang up. */
  closeByClient(): void {
    this.log.debug('client closed the connection');
    this.state = 'closing';
    this.#releaseCore();
    this.writer.write(encodeMethodFrame(0, { id: M.connectionCloseOk }));
    this.endSocket();
  }

  /** Broker stop (or management): 320 CONNECTION_FORCED, a short wait for close-ok. */
  shutdown(reason: string): void {
    if (this.state === 'running') this.close(320, `CONNECTION_FORCED - ${reason}`.slice(0, 255), 0, STOP_CLOSE_OK_TIMEOUT_MS);
    else if (this.state !== 'closed') this.destroy();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  heartbeatTimedOut(): void {
    this.log.warn('missed heartbeats from client, closing', { timeoutSeconds: this.heartbeat * 2 });
    this.state = 'closing';
    this.#socket.destroy();
  }

  /** The handshake did not finish in time. */
  deadlinePassed(): void {
    if (this.state === 'running' || this.state === 'closed') return;
    this.log.warn('handshake timeout, closing', { state: this.state, timeoutMs: this.settings.handshakeTimeoutMs });
    this.#socket.destroy();
  }

  /** Flush what is queued, then half-close; destroy if the peer does not finish closing. */
  endSocket(): void {
    this.writer.flush();
    this.#socket.end();
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(destroyStream, CLOSE_OK_TIMEOUT_MS, this.#socket);
  }

  /** End every session and the core connection (requeues unacked, deletes exclusive queues). */
  #releaseCore(): void {
    this.#channels.dropAll();
    this.#core?.close();
  }

  streamClosed(): void {
    if (this.state !== 'closing' && this.state !== 'closed') this.log.debug('client closed the socket without connection.close');
    this.state = 'closed';
    this.gate.drop();
    this.#releaseCore();
    this.#heartbeat?.stop();
    deadlines.clear(this);
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#reader = null;
    this.#registry.closed(this);
  }
}
