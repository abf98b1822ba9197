import { preconditionFailed } from '../../errors.js';
import type { QueueType } from '../queue-type.js';
import { STREAM_ARGUMENT_KEYS, STREAM_TYPE, streamSettingsFrom, validateStreamDeclare } from './stream-arguments.js';
import { StreamQueue } from './stream-queue.js';

/** Stream queues (`x-queue-type: stream`): a segment log of their own (docs/streams.md). */
export const streamQueue: QueueType = {
  name: STREAM_TYPE,
  argumentKeys: STREAM_ARGUMENT_KEYS,

  /**
   * queue.declare of a new stream: checked (durable, not exclusive, not auto-delete, stream
   * arguments only), saved in the metadata (its id names its directory) and given an empty log.
   */
  declare(host, name, flags, args) {
    host.checkQueueLimit(name);
    validateStreamDeclare(name, host.name, flags, args);
    const meta = host.store?.meta;
    const streams = host.store?.streams;
    if (!meta || !streams) throw preconditionFailed(`stream queues need a data directory: queue '${name}' in vhost '${host.name}' cannot be declared`);
    const streamId = meta.saveQueue({ vhost: host.name, name, type: STREAM_TYPE, autoDelete: false, arguments: args });
    const log = streams.create(streamId, streamSettingsFrom(args).config);
    const q = new StreamQueue(name, host.name, args, { streams, meta, streamId, log });
    host.adoptQueue(q);
    return q;
  },

  /** A stream found in the metadata at start; its log was opened by `StreamStore.recover`. */
  restore(host, streamId, name, _autoDelete, args) {
    const meta = host.store?.meta;
    const streams = host.store?.streams;
    const log = streams?.get(streamId);
    if (!meta || !streams || !log) return null;
    const q = new StreamQueue(name, host.name, args, { streams, meta, streamId, log });
    host.adoptQueue(q);
    return q;
  },
};
