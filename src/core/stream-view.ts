/**
 * A read-only look at a stream queue for front-ends that address streams by name rather
 * than consume them through a session (the Kafka plugin's topics, offsets and lag): where
 * its log begins and ends, its arguments, and its stored consumer offsets. Reading messages
 * and publishing still go through `Session` (permissions, confirms).
 */
import type { FieldTable } from '../codec/types.js';
import type { VHost } from './vhost.js';
import type { Message } from './message.js';
import { isStreamQueue, type StreamQueue } from './queues/stream/stream-queue.js';
import { STREAM_TYPE, validateStreamDeclare } from './queues/stream/stream-arguments.js';
import { effectivePolicy, mergePolicy } from './policies.js';
import { messageOfRecord } from './queues/stream/stream-message.js';
import { scanLogSync } from '../store/stream/stream-scan.js';

export interface StreamView {
  readonly name: string;
  readonly vhost: string;
  readonly arguments: FieldTable;
  /** the oldest offset still in the log */
  readonly firstOffset: number;
  /** one past the newest durable (readable) offset: Kafka's high watermark */
  readonly committedOffset: number;
  /** the offset the next append gets (appends are synchronous, so a front-end learns its offsets) */
  readonly nextOffset: number;
  /** timestamp (ms) of the newest record, 0 when empty */
  readonly lastTimestamp: number;
  readonly messageCount: number;
  readonly diskBytes: number;
  /** the last offset a named consumer processed, or undefined */
  storedOffset(consumerName: string): number | undefined;
  /** store `offset` as the last one `consumerName` processed (kept with the next offset flush) */
  commitOffset(consumerName: string, offset: number): void;
  /**
   * Visit every committed message, oldest first, reading the log synchronously: for small
   * logs read once (a key-compacted state stream), never on a hot path. A message's body is
   * a view of the read buffer, valid during the call only: copy what is kept.
   */
  readFromStart(visit: (message: Message) => void): void;
  /**
   * Replace the stream's declared arguments (a Kafka topic's settings changed by AlterConfigs):
   * checked as at declaration, saved, and applied at once merged with the stream's policy, as a
   * policy change is (retention, segment size and compaction of the running stream). The
   * caller checks the permission (configure).
   * @throws BrokerError PRECONDITION_FAILED for arguments a stream refuses
   */
  setArguments(args: FieldTable): void;
}

export function streamViewOf(vhost: VHost | undefined, name: string): StreamView | undefined {
  if (vhost === undefined) return undefined;
  const q = vhost.queues.get(name);
  return q !== undefined && isStreamQueue(q) && !q.deleted ? viewOf(vhost, q) : undefined;
}

export function streamViewsOf(vhost: VHost | undefined): StreamView[] {
  const out: StreamView[] = [];
  if (vhost === undefined) return out;
  for (const q of vhost.queues.values()) if (isStreamQueue(q) && !q.deleted) out.push(viewOf(vhost, q));
  return out;
}

export function viewOf(vhost: VHost, q: StreamQueue): StreamView {
  return {
    name: q.name,
    vhost: q.vhost,
    get arguments() {
      return q.arguments;
    },
    get firstOffset() {
      return q.log.firstOffset;
    },
    get committedOffset() {
      return q.log.committedOffset;
    },
    get nextOffset() {
      return q.log.nextOffset;
    },
    get lastTimestamp() {
      let t = 0;
      for (const s of q.log.segments) if (s.records > 0 && s.lastTimestamp > t) t = s.lastTimestamp;
      return t;
    },
    get messageCount() {
      return q.messageCount;
    },
    get diskBytes() {
      return q.log.diskBytes;
    },
    storedOffset: (consumerName) => q.storedOffset(consumerName),
    commitOffset: (consumerName, offset) => q.commitOffset(consumerName, offset),
    readFromStart: (visit) => scanLogSync(q.log, (buf, view) => visit(messageOfRecord(buf, view))),
    setArguments: (args) => setStreamArguments(vhost, q, args),
  };
}

function setStreamArguments(vhost: VHost, q: StreamQueue, args: FieldTable): void {
  validateStreamDeclare(q.name, q.vhost, { durable: true, exclusive: false, autoDelete: false }, args);
  // saved first: a restart recovers the stream with what it runs with
  vhost.store?.meta.saveQueue({ vhost: q.vhost, name: q.name, type: STREAM_TYPE, autoDelete: false, arguments: args });
  q.arguments = args;
  const policy = effectivePolicy(vhost.policies.values(), 'queue', q.name);
  q.applySettings(mergePolicy('queue', args, policy), policy?.name ?? null);
}
