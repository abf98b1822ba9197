/**
 * One STOMP client connection: bytes in through the frame parser, frames out through the
 * transport; the protocol state the command handlers share (version, core connection,
 * subscriptions, transactions, pending receipts); heart-beats; backpressure; and the one
 * way out on bad input: an ERROR frame, then close (STOMP 1.2 "ERROR"). No exception leaves
 * a socket handler: everything a frame does runs inside `#dispatch`'s try. During a resource
 * alarm a publishing frame and all after it wait in the publish gate (src/frontend/), and the
 * transport is not read until the alarm clears.
 */
import type { ProtocolCore, CoreConnection, FlowListener, Session, SessionHandler, LargeBody } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
import { deadlines, PublishGate, type ConnectionRegistry, type Expiring, type FrontendConnection, type GateOwner } from '../../src/frontend/index.js';
import { FrameParser, encodeHead, frameEnd, type HeaderList, type StompFrame, type StompVersion } from './frame.js';
import { describeError, StompError } from './errors.js';
import { Heartbeats, type HeartbeatPlan, type HeartbeatTarget } from './heartbeat.js';
import type { Subscription, SubscriptionOwner } from './subscription.js';
import type { StompSettings } from './settings.js';
import type { Transport, TransportEvents } from './transport.js';
import { COMMANDS } from './handlers/index.js';
import { PublishReceipts, type ReceiptSink } from './publish-receipts.js';
import { streamedSend } from './streamed-send.js';

let nextConnectionNumber = 1;

/** Commands whose handlers send their own RECEIPT (or none) instead of the dispatcher. */
const OWN_RECEIPT = new Set(['CONNECT', 'STOMP', 'SEND', 'COMMIT', 'DISCONNECT']);

/** Intervals of client silence tolerated before a heart-beat timeout. */
const HEARTBEAT_TOLERANCE = 2;

type State = 'connecting' | 'open' | 'closed';

/** Whether a frame publishes (and so is held during a resource alarm): a SEND outside a transaction, or a COMMIT (which publishes its SENDs). */
function publishes(frame: StompFrame): boolean {
  return (frame.command === 'SEND' && frame.headers['transaction'] === undefined) || frame.command === 'COMMIT';
}

export class StompConnection implements FlowListener, TransportEvents, SubscriptionOwner, SessionHandler, HeartbeatTarget, ReceiptSink, FrontendConnection, GateOwner<StompFrame>, Expiring {
  /** broker-wide number of this STOMP connection, part of ack ids and of the session header */
  readonly number = nextConnectionNumber++;
  readonly core: ProtocolCore;
  readonly settings: StompSettings;
  readonly log: Logger;
  transport!: Transport;
  /**
   * The login name of the client's verified TLS certificate, or null: plain TCP/WebSocket,
   * no certificate, or verify_none. Used by stomp.ssl_cert_login.
   */
  readonly certName: string | null;
  version: StompVersion = '1.0';

  coreConnection: CoreConnection | null = null;
  /** the session SENDs publish on (subscriptions have their own) */
  publisher: Session | null = null;
  /** active subscriptions by STOMP id */
  readonly subscriptions = new Map<string, Subscription>();
  /** active and unsubscribed-but-unsettled subscriptions by number, for ACK/NACK */
  readonly subscriptionsByNumber = new Map<number, Subscription>();
  nextSubscriptionNumber = 1;
  /** open transactions: the frames to apply on COMMIT */
  readonly transactions = new Map<string, StompFrame[]>();
  /** /queue/ destinations already declared for SEND on this connection (RabbitMQ declares on first SEND only) */
  readonly declaredQueues = new Set<string>();
  /** /temp-queue/<id> → the private queue made for it */
  readonly replyQueues = new Map<string, string>();

  readonly #parser: FrameParser;
  readonly #heartbeats = new Heartbeats();
  readonly #registry: ConnectionRegistry<StompConnection>;
  #state: State = 'connecting';
  /** RECEIPTs of SENDs and COMMITs waiting for their publishes' confirms */
  readonly receipts = new PublishReceipts(this);
  #writable = true;
  /** the login timeout (src/frontend/deadlines.ts) */
  deadlineToken = 0;
  /** the pending answer to a refused login (refuseLogin) */
  #refusal: NodeJS.Timeout | null = null;
  /** frames held while a resource alarm blocks publishing; made on first use */
  #gate: PublishGate<StompFrame> | null = null;

  /** @param registry told when the connection has ended (the listener set) */
  constructor(core: ProtocolCore, settings: StompSettings, log: Logger, registry: ConnectionRegistry<StompConnection>, certName: string | null) {
    this.core = core;
    this.settings = settings;
    this.log = log;
    this.#registry = registry;
    this.certName = certName;
    this.#parser = new FrameParser({ onFrame: (f) => this.#onFrame(f), bodySink: (f, n) => streamedSend(this, f, n) }, settings.limits);
  }

  /** Attach the transport (created with this connection as its event sink). */
  attach(transport: Transport): void {
    this.transport = transport;
    // a socket that never logs in must not hold its place forever
    if (this.settings.loginTimeout > 0) deadlines.set(this, Date.now() + this.settings.loginTimeout);
  }

  deadlinePassed(): void {
    if (this.#state !== 'connecting' || this.#refusal !== null) return;
    this.fail(new StompError('Login timeout', `no CONNECT frame within ${this.settings.loginTimeout} ms`), undefined);
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  get terminator(): Buffer {
    return frameEnd(this.settings.trailingLf);
  }

  // ---- transport events -----------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.#state === 'closed') return;
    this.#heartbeats.sawRead = true;
    try {
      this.#parser.push(chunk);
    } catch (e) {
      this.fail(e, undefined);
    }
  }

  onWritable(writable: boolean): void {
    this.#writable = writable;
    // setWritable(false) only raises a flag in the core: safe even from inside a delivery
    for (const s of this.subscriptionsByNumber.values()) s.session?.setWritable(writable);
  }

  onClose(): void {
    this.#cleanup();
  }

  // ---- frames in ------------------------------------------------------------------------------

  #onFrame(frame: StompFrame): void {
    // a refused login reads nothing more (frames that came with its CONNECT included)
    if (this.#state === 'closed' || this.receipts.failed || this.#refusal !== null) return;
    // a publish during a resource alarm waits, and so does every frame after it
    if (this.holding || (this.#state === 'open' && publishes(frame) && this.core.alarms.blocked)) {
      (this.#gate ??= new PublishGate<StompFrame>(this)).hold(frame, this.core.alarms.settings.publishDeadlineMs);
      return;
    }
    this.#dispatch(frame);
  }

  #dispatch(frame: StompFrame): void {
    try {
      const command = frame.command;
      if (this.#state === 'connecting' && command !== 'CONNECT' && command !== 'STOMP') {
        throw new StompError('Illegal command', `You must log in using CONNECT first (got ${command})`);
      }
      const handler = COMMANDS.get(command);
      if (!handler) throw new StompError('Bad command', `Could not interpret command ${command}`);
      handler(this, frame);
      const receipt = frame.headers['receipt'];
      if (receipt === undefined || OWN_RECEIPT.has(command)) return;
      if (command === 'SUBSCRIBE' || command === 'UNSUBSCRIBE') this.#receiptWhenReplicated(receipt);
      else this.sendReceipt(receipt);
    } catch (e) {
      this.fail(e, frame.headers['receipt']);
    }
  }

  /** A (UN)SUBSCRIBE's receipt promises the queue or binding it made or removed: in a cluster it waits for the in-sync replicas, as a SEND's waits for its confirm. */
  #receiptWhenReplicated(receipt: string): void {
    this.core.afterMetadataReplicated((refusal) => {
      if (this.#state === 'closed') return;
      if (refusal === null) this.sendReceipt(receipt);
      else this.fail(new StompError('Not replicated', `the subscription could not be replicated: ${refusal.message}`), receipt);
    });
  }

  // ---- resource alarms -----------------------------------------------------------------------

  /** whether frames wait for a resource alarm to clear (and the transport is not read) */
  get holding(): boolean {
    return this.#gate !== null && this.#gate.holding;
  }

  /** A resource alarm cleared: what was held goes on (a new alarm holds at the next SEND). */
  alarmChanged(reason: string | null): void {
    if (reason === null) this.#gate?.release();
  }

  setReading(reading: boolean): void {
    if (!reading) return this.transport.pause();
    if (this.#state === 'closed' || this.coreConnection?.flowHeld === true) return;
    this.#heartbeats.sawRead = true;
    this.transport.resume();
  }

  /** A queue this published to holds it (false) or let it go (true): src/core/publisher-flow.ts. */
  queueFlow(flowing: boolean): void {
    if (!flowing) this.transport.pause();
    else if (!this.holding) this.setReading(true);
  }

  /** The alarm cleared: handle a held frame as if it had just arrived. */
  handleHeld(frame: StompFrame): boolean {
    if (this.#state === 'closed' || this.receipts.failed) return false;
    this.#dispatch(frame);
    return true;
  }

  /**
   * Held past the alarm deadline: STOMP has no negative receipt, so an ERROR frame says why,
   * naming the receipt of the first held publish that asked for one, then the connection
   * closes (STOMP 1.2 "ERROR"). Nothing held was processed.
   */
  heldTooLong(frames: StompFrame[]): false {
    const receipts: string[] = [];
    for (const f of frames) {
      const r = f.headers['receipt'];
      if (r !== undefined && publishes(f)) receipts.push(r);
    }
    const alarms = this.core.alarms;
    let detail = `publishing blocked by a resource alarm (${alarms.reason}) for longer than ${alarms.settings.publishDeadlineMs} ms; the held frames (${frames.length}) were not processed`;
    if (receipts.length > 1) detail += `; receipts: ${receipts.join(', ')}`;
    this.log.info('STOMP held publishes failed', { conn: this.number, frames: frames.length });
    this.fail(new StompError('Resource alarm', detail), receipts[0]);
    return false;
  }

  /** CONNECT succeeded: frames are now parsed for `version`, heart-beats run. */
  opened(version: StompVersion, coreConnection: CoreConnection, heartbeat: HeartbeatPlan): void {
    this.version = version;
    this.#parser.version = version;
    this.coreConnection = coreConnection;
    // how the core (management) closes this connection from the server side: ERROR, then close
    coreConnection.onServerClose = (reason) => this.shutdown(reason);
    coreConnection.flow = this;
    this.publisher = coreConnection.openSession(this);
    this.#state = 'open';
    deadlines.clear(this);
    this.#heartbeats.start(heartbeat, this, HEARTBEAT_TOLERANCE);
  }

  // ---- frames out -----------------------------------------------------------------------------

  sendFrame(head: string, body: Buffer | LargeBody | null): void {
    this.#heartbeats.sawWrite = true;
    this.transport.sendFrame(head, body);
  }

  send(command: string, headers: HeaderList, body: Buffer | string | null = null): void {
    const buf = body === null ? null : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.sendFrame(encodeHead(command, headers, buf?.length ?? 0, this.version), buf);
  }

  sendReceipt(receiptId: string): void {
    this.send('RECEIPT', [['receipt-id', receiptId]]);
  }

  sendHeartbeat(): void {
    this.transport.sendHeartbeat();
  }

  heartbeatTimeout(): void {
    // not reading (a resource alarm, publisher flow, a large body's journal behind) is our doing, not the client's silence
    if (this.holding || this.coreConnection?.flowHeld === true || this.transport.paused) return;
    this.log.info('STOMP heart-beat timeout: closing', { conn: this.number, peer: this.transport.peerHost });
    this.transport.destroy();
    this.#cleanup();
  }

  // ---- receipts waiting for confirms ----------------------------------------------------------

  /** SessionHandler of the publishing session: a confirm may release receipts waiting for it. */
  confirmed(token: number, ack: boolean, error: Error | null): void {
    this.receipts.confirmed(token, ack, error);
  }

  publishFailed(error: StompError, receiptId: string | undefined): void {
    this.fail(error, receiptId);
  }

  deliver(): void {}

  returned(): void {}

  consumerCancelled(): void {}

  /**
   * Encoding a delivery failed (a bug, not the client's doing): the core must not see the
   * exception, so the connection fails after the current dispatch.
   */
  deliveryFailed(e: unknown): void {
    queueMicrotask(() => this.fail(e, undefined));
  }

  // ---- subscriptions --------------------------------------------------------------------------

  /** The queue under a subscription was deleted: RabbitMQ sends an ERROR and keeps the connection. */
  subscriptionCancelled(s: Subscription): void {
    if (this.subscriptions.get(s.id) !== s) return;
    this.subscriptions.delete(s.id);
    s.retired = true;
    this.send(
      'ERROR',
      [['message', 'Server cancelled subscription'], ['subscription', s.id], ['content-type', 'text/plain']],
      `The server has cancelled the subscription '${s.id}' to queue '${s.queue}': no more messages will be delivered for it.`,
    );
    queueMicrotask(() => this.releaseIfSettled(s));
  }

  /** Register a subscription whose session is open and whose consumer is about to start. */
  addSubscription(s: Subscription): void {
    if (!s.internal) this.subscriptions.set(s.id, s);
    this.subscriptionsByNumber.set(s.number, s);
    if (!this.#writable) s.session.setWritable(false);
  }

  /** An unsubscribed subscription with nothing left to acknowledge: close its session. */
  releaseIfSettled(s: Subscription): void {
    if (!s.retired || s.unsettled > 0 || this.#state === 'closed') return;
    this.subscriptionsByNumber.delete(s.number);
    s.session.close();
  }

  // ---- ending ---------------------------------------------------------------------------------

  /**
   * A refused login (bad credentials, loopback-only user, no access to the vhost): logged once
   * and answered with `error` (ERROR frame, then close) after `auth.failure_delay`
   * (src/auth/login-failures.ts). Nothing is read meanwhile; other clients carry on.
   */
  refuseLogin(user: string, reason: string, error: StompError, receiptId: string | undefined): void {
    deadlines.clear(this);
    this.transport.pause();
    const failure = { protocol: 'stomp', peerHost: this.transport.peerHost, peerPort: this.transport.peerPort, user, reason };
    this.#refusal = this.core.loginFailures.refuse(failure, () => {
      this.#refusal = null;
      this.fail(error, receiptId);
    });
  }

  /**
   * Report an error to the client and close: ERROR frame (with `receipt-id` when the frame
   * had a receipt), flush, close. The broker carries on.
   */
  fail(e: unknown, receiptId: string | undefined): void {
    if (this.#state === 'closed') return;
    const report = describeError(e);
    if (report.internal) this.log.error('STOMP internal error', { conn: this.number, error: String((e as Error)?.stack ?? e) });
    else this.log.info('STOMP error frame sent', { conn: this.number, message: report.summary, detail: report.detail });
    try {
      const headers: [string, string][] = [['message', report.summary], ['content-type', 'text/plain'], ['version', '1.0,1.1,1.2']];
      if (receiptId !== undefined) headers.push(['receipt-id', receiptId]);
      this.send('ERROR', headers, report.detail);
    } catch {
      // the transport is gone: nothing to tell
    }
    this.close();
  }

  /** Flush and close the transport, and end the core side now. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#cleanup();
    this.transport.end();
  }

  /** Past the stop deadline: drop the transport. */
  destroy(): void {
    this.transport.destroy();
    this.#cleanup();
  }

  /** The broker is stopping: tell the client why, then close. */
  shutdown(reason: string): void {
    if (this.#state === 'closed') return;
    this.send('ERROR', [['message', 'connection_forced'], ['content-type', 'text/plain']], reason);
    this.close();
  }

  #cleanup(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    deadlines.clear(this);
    if (this.#refusal) clearTimeout(this.#refusal);
    this.#refusal = null;
    this.#parser.stop();
    this.#heartbeats.stop();
    this.#gate?.drop(); // what the alarm held goes with the connection
    this.transactions.clear(); // STOMP 1.2 "BEGIN": open transactions are aborted on disconnect
    this.receipts.clear();
    try {
      // every session closes: unacked messages are requeued, exclusive queues deleted
      this.coreConnection?.close();
    } catch (e) {
      this.log.error('STOMP: error while closing the core connection', { conn: this.number, error: String(e) });
    }
    this.coreConnection = null;
    this.publisher = null;
    this.subscriptions.clear();
    this.subscriptionsByNumber.clear();
    this.#registry.closed(this);
  }
}
