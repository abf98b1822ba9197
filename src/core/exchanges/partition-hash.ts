/**
 * `x-partition-hash` (Warren): routes each message to one of N partitions by the hash of its
 * key, as Kafka's default partitioner places records — `murmur2(key) & 0x7fffffff % N` — so
 * AMQP, MQTT and STOMP publishers feed a partitioned stream set (a Kafka topic's `t-0` …
 * `t-(N-1)`) exactly where a Kafka producer with the same key would. Partition n is whatever
 * is bound with the binding key "n"; N is one more than the highest bound partition. The key
 * is the header `x-kafka-key` when present, else the routing key.
 */
import { preconditionFailed } from '../errors.js';
import type { Binding, Destination } from '../binding.js';
import type { Message } from '../message.js';
import { partitionForKey } from '../../util/murmur2.js';
import { addDestination, type ExchangeRouter, type ExchangeType } from './exchange-type.js';

export const PARTITION_HASH_TYPE = 'x-partition-hash';
const KEY_HEADER = 'x-kafka-key';

class PartitionHashRouter implements ExchangeRouter {
  readonly #byPartition: Binding[][] = [];

  bind(b: Binding): void {
    const p = Number(b.routingKey);
    (this.#byPartition[p] ??= []).push(b);
  }

  unbind(b: Binding): void {
    const p = Number(b.routingKey);
    const list = this.#byPartition[p];
    if (!list) return;
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
    while (this.#byPartition.length > 0 && (this.#byPartition[this.#byPartition.length - 1]?.length ?? 0) === 0) this.#byPartition.pop();
  }

  route(message: Message, routingKey: string, out: Destination[], epoch: number): boolean {
    const n = this.#byPartition.length;
    if (n === 0) return false;
    const header = message.properties.headers?.[KEY_HEADER];
    const key = Buffer.isBuffer(header) ? header : typeof header === 'string' ? Buffer.from(header, 'utf8') : Buffer.from(routingKey, 'utf8');
    const list = this.#byPartition[partitionForKey(key, n)];
    if (!list || list.length === 0) return false;
    for (let i = 0; i < list.length; i++) addDestination(out, list[i].destination, epoch);
    return true;
  }
}

export const partitionHashExchange: ExchangeType = {
  name: PARTITION_HASH_TYPE,
  create: () => new PartitionHashRouter(),
  validateBinding(routingKey: string): void {
    if (!/^(0|[1-9]\d{0,4})$/.test(routingKey)) throw preconditionFailed(`binding key '${routingKey}' of an ${PARTITION_HASH_TYPE} exchange must be a partition number`);
  },
};
