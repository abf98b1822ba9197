import type { FieldTable } from '../../../codec/types.js';
import type { MetadataStore } from '../../../store/metadata/metadata-store.js';
import type { StreamStore } from '../../../store/stream/stream-store.js';
import { preconditionFailed } from '../../errors.js';
import type { QueueLifecycle } from '../classic/classic-queue.js';
import { STREAM_TYPE, streamSettingsFrom, validateStreamDeclare } from './stream-arguments.js';
import { StreamQueue } from './stream-queue.js';

/** What the vhost lends a stream: its metadata, the node's stream store. */
export interface StreamHost {
  readonly name: string;
  readonly lifecycle: QueueLifecycle;
  readonly meta: MetadataStore | undefined;
  readonly streams: StreamStore | undefined;
}

/**
 * queue.declare of a new stream: checked (durable, not exclusive, not auto-delete, stream
 * arguments only), saved in the metadata (its id names its directory) and given an empty log.
 */
export function declareStream(host: StreamHost, name: string, flags: { durable: boolean; exclusive: boolean; autoDelete: boolean }, args: FieldTable): StreamQueue {
  validateStreamDeclare(name, host.name, flags, args);
  const { meta, streams } = host;
  if (!meta || !streams) throw preconditionFailed(`stream queues need a data directory: queue '${name}' in vhost '${host.name}' cannot be declared`);
  const streamId = meta.saveQueue({ vhost: host.name, name, type: STREAM_TYPE, autoDelete: false, arguments: args });
  const log = streams.create(streamId, streamSettingsFrom(args).config);
  return new StreamQueue(name, host.name, args, host.lifecycle, { streams, meta, streamId, log });
}

/** A stream found in the metadata at start; its log was opened by `StreamStore.recover`. */
export function restoreStream(host: StreamHost, streamId: number, name: string, args: FieldTable): StreamQueue | null {
  const { meta, streams } = host;
  const log = streams?.get(streamId);
  if (!meta || !streams || !log) return null;
  return new StreamQueue(name, host.name, args, host.lifecycle, { streams, meta, streamId, log });
}
