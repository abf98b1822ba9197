/**
 * Kafka topics as stream queues (README "Kafka clients"): partition p of topic t is the
 * stream queue `t-p` (RabbitMQ's super-stream naming), declared with the arguments
 * `x-kafka-topic: t` and `x-kafka-partition: p`, which is how the topic is found again after
 * a restart. Any other stream queue `s` is the one-partition topic `s`, so a stream AMQP
 * clients declared is fetchable as it is. Topic settings map onto stream arguments.
 */
import type { FieldTable, FieldValue } from '../../src/codec/index.js';
import type { ProtocolCore, StreamView } from '../../src/core/index.js';
import { KEY_HEADER } from './message.js';

export const TOPIC_ARG = 'x-kafka-topic';
export const PARTITION_ARG = 'x-kafka-partition';

/** Kafka's legal topic names (Topic.validate: [a-zA-Z0-9._-], at most 249, not '.' or '..'). */
export function topicNameError(name: string): string | null {
  if (name === '' || name === '.' || name === '..') return `'${name}' is not a topic name`;
  if (name.length > 249) return 'topic names are at most 249 characters';
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `topic name '${name}' has characters other than ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

export function partitionQueue(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class Topics {
  readonly #core: ProtocolCore;
  readonly #vhost: string;

  constructor(core: ProtocolCore, vhost: string) {
    this.#core = core;
    this.#vhost = vhost;
  }

  /** The stream of a topic's partition, or undefined. */
  partition(topic: string, partition: number): StreamView | undefined {
    const s = this.#core.stream(this.#vhost, partitionQueue(topic, partition));
    if (s !== undefined && text(s.arguments[TOPIC_ARG]) === topic) return s;
    if (partition !== 0) return undefined;
    const plain = this.#core.stream(this.#vhost, topic);
    return plain !== undefined && text(plain.arguments[TOPIC_ARG]) === undefined ? plain : undefined;
  }

  /** How many partitions `topic` has (0: no such topic). */
  partitionCount(topic: string): number {
    let n = 0;
    while (this.partition(topic, n) !== undefined) n++;
    return n;
  }

  /** topic → its partitions' streams, in partition order */
  all(): Map<string, StreamView[]> {
    const out = new Map<string, StreamView[]>();
    for (const s of this.#core.streams(this.#vhost)) {
      const topic = text(s.arguments[TOPIC_ARG]);
      if (topic === undefined) {
        if (!out.has(s.name)) out.set(s.name, [s]);
        continue;
      }
      const p = Number(s.arguments[PARTITION_ARG] instanceof Object ? (s.arguments[PARTITION_ARG] as { value: unknown }).value : s.arguments[PARTITION_ARG]);
      const list = out.get(topic) ?? [];
      list[p] = s;
      out.set(topic, list);
    }
    // a Kafka topic wins over a plain stream of the same name; drop partitions with holes
    for (const [t, list] of out) {
      const firstHole = list.findIndex((s) => s === undefined);
      if (firstHole >= 0) list.length = firstHole;
      if (list.length === 0) out.delete(t);
    }
    return out;
  }
}

/** Topic settings Warren maps onto stream arguments (anything else is INVALID_CONFIG). */
export const TOPIC_CONFIG_KEYS = ['retention.ms', 'retention.bytes', 'cleanup.policy', 'segment.bytes'] as const;

/** The stream arguments for topic settings; throws a text for a setting that cannot be mapped. */
export function streamArgumentsFor(configs: { name: string; value: string | null }[]): FieldTable {
  const args: FieldTable = {};
  for (const { name, value } of configs) {
    if (value === null) continue;
    switch (name) {
      case 'retention.ms': {
        const ms = integer(name, value);
        // stream ages are whole seconds or coarser (RabbitMQ's duration strings)
        if (ms >= 0) args['x-max-age'] = `${Math.max(1, Math.ceil(ms / 1000))}s`;
        break;
      }
      case 'retention.bytes': {
        const n = integer(name, value);
        if (n >= 0) args['x-max-length-bytes'] = n;
        break;
      }
      case 'segment.bytes': {
        const n = integer(name, value);
        if (n < 14) throw new Error('segment.bytes must be at least 14');
        args['x-stream-max-segment-size-bytes'] = n;
        break;
      }
      case 'cleanup.policy': {
        const policies = value.split(',').map((p) => p.trim());
        if (policies.some((p) => p !== 'compact' && p !== 'delete')) throw new Error(`cleanup.policy '${value}': compact, delete or both`);
        if (policies.includes('compact')) {
          args['x-stream-compaction'] = 'key';
          args['x-stream-compaction-key-header'] = KEY_HEADER;
        }
        break;
      }
      default:
        throw new Error(`topic config '${name}' is not supported (${TOPIC_CONFIG_KEYS.join(', ')} are)`);
    }
  }
  return args;
}

/** the stream arguments topic settings map onto */
const TOPIC_SETTING_ARGS = ['x-max-age', 'x-max-length-bytes', 'x-stream-max-segment-size-bytes', 'x-stream-compaction', 'x-stream-compaction-key-header'];

/** A stream's arguments without those that stand for topic settings (AlterConfigs replaces them all). */
export function withoutTopicConfigs(args: FieldTable): FieldTable {
  const out: FieldTable = { ...args };
  for (const k of TOPIC_SETTING_ARGS) delete out[k];
  return out;
}

/** The topic settings a stream's arguments stand for (DescribeConfigs). */
export function topicConfigsOf(args: FieldTable): { name: string; value: string; isDefault: boolean }[] {
  const age = text(args['x-max-age']);
  const bytes = args['x-max-length-bytes'];
  const segment = args['x-stream-max-segment-size-bytes'];
  return [
    { name: 'cleanup.policy', value: text(args['x-stream-compaction']) === 'key' ? 'compact' : 'delete', isDefault: args['x-stream-compaction'] === undefined },
    { name: 'retention.ms', value: age !== undefined ? String(durationToMs(age)) : '-1', isDefault: age === undefined },
    { name: 'retention.bytes', value: bytes !== undefined ? String(num(bytes)) : '-1', isDefault: bytes === undefined },
    { name: 'segment.bytes', value: String(segment !== undefined ? num(segment) : 64 * 1024 * 1024), isDefault: segment === undefined },
  ];
}

function integer(name: string, value: string): number {
  if (!/^-?\d+$/.test(value)) throw new Error(`${name} must be an integer`);
  return Number(value);
}

function text(v: FieldValue | undefined): string | undefined {
  if (v !== null && typeof v === 'object' && 'value' in v && !Buffer.isBuffer(v)) v = (v as { value: FieldValue }).value;
  return typeof v === 'string' ? v : undefined;
}

function num(v: FieldValue): number {
  if (v !== null && typeof v === 'object' && 'value' in v && !Buffer.isBuffer(v)) v = (v as { value: FieldValue }).value;
  return Number(v);
}

const UNIT_MS: Record<string, number> = { Y: 365 * 86_400_000, M: 30 * 86_400_000, D: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

function durationToMs(v: string): number {
  const m = /^(\d+)([YMDhms])$/.exec(v);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : -1;
}
