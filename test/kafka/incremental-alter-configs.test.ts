/**
 * IncrementalAlterConfigs (KIP-339, API key 44) v0 and v1 (flexible). No client the tests can
 * install sends it (kafkajs 2.2 has only AlterConfigs; Debian's kcat has no admin commands and
 * its librdkafka 2.0.2 predates the incremental API), so the requests are written here field by
 * field from the protocol's schema, over a real socket, and the effect is read back with
 * kafkajs' DescribeConfigs and from the partition streams' arguments: only the named settings
 * change (AlterConfigs would reset the others), APPEND/SUBTRACT on cleanup.policy, DELETE back
 * to the default, validate_only, and the errors Kafka gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { startKafkaBroker, uniqueTopic, type KafkaTestBroker } from './helpers.js';
import { RawKafka } from './raw-client.js';
import type { Reader } from '../../plugins/kafka/codec/reader.js';

const INCREMENTAL_ALTER_CONFIGS = 44;
const TOPIC = 2;
const BROKER = 4;
const [SET, DELETE, APPEND, SUBTRACT] = [0, 1, 2, 3];
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const INVALID_CONFIG = 40;
const INVALID_REQUEST = 42;

type Op = { name: string; op: number; value: string | null };
type Resource = { type: number; name: string; configs: Op[] };

let b: KafkaTestBroker;
let admin: Admin;
let raw: RawKafka;
beforeAll(async () => {
  b = await startKafkaBroker();
  admin = b.client().admin();
  await admin.connect();
  raw = await RawKafka.open(b.kafkaPort);
});
afterAll(async () => {
  raw.close();
  await admin.disconnect();
  await b.stop();
});

/** One IncrementalAlterConfigs request; the answer as [error code, message, type, name] per resource. */
async function incrementalAlter(version: 0 | 1, resources: Resource[], validateOnly = false): Promise<{ code: number; message: string | null; type: number; name: string }[]> {
  const flexible = version === 1;
  raw.send(
    raw.frame(
      INCREMENTAL_ALTER_CONFIGS,
      version,
      (w) => {
        if (!flexible) {
          w.array(resources, (w, res) => {
            w.int8(res.type).string(res.name);
            w.array(res.configs, (w, c) => w.string(c.name).int8(c.op).nullableString(c.value));
          });
          w.bool(validateOnly);
          return;
        }
        w.compactArray(resources, (w, res) => {
          w.int8(res.type).compactString(res.name);
          w.compactArray(res.configs, (w, c) => w.compactString(c.name).int8(c.op).compactNullableString(c.value).emptyTaggedFields());
          w.emptyTaggedFields();
        });
        w.bool(validateOnly).emptyTaggedFields();
      },
      flexible,
    ),
  );
  const r = (await raw.next()) as Reader;
  expect(r).not.toBeNull();
  if (flexible) r.skipTaggedFields(); // response header v1
  expect(r.int32()).toBe(0); // throttle time
  const item = (r: Reader) => {
    const res = flexible
      ? { code: r.int16(), message: r.compactNullableString(), type: r.int8(), name: r.compactString() }
      : { code: r.int16(), message: r.nullableString(), type: r.int8(), name: r.string() };
    if (flexible) r.skipTaggedFields();
    return res;
  };
  const out = flexible ? r.compactArray(item) : r.array(item);
  if (flexible) r.skipTaggedFields();
  expect(r.remaining).toBe(0);
  return out;
}

async function configsOf(topic: string): Promise<Record<string, string>> {
  const res = await admin.describeConfigs({ resources: [{ type: TOPIC, name: topic }], includeSynonyms: false });
  return Object.fromEntries(res.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
}

describe('IncrementalAlterConfigs', () => {
  it('v0: SET and APPEND change only the named settings, on every partition', async () => {
    const topic = uniqueTopic('incr');
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });
    const res = await incrementalAlter(0, [
      {
        type: TOPIC,
        name: topic,
        configs: [
          { name: 'retention.bytes', op: SET, value: '2000000' },
          { name: 'cleanup.policy', op: APPEND, value: 'compact' },
        ],
      },
    ]);
    expect(res).toEqual([{ code: 0, message: null, type: TOPIC, name: topic }]);
    // retention.ms was not named, so it stays (AlterConfigs would have reset it)
    expect(await configsOf(topic)).toEqual({ 'retention.ms': '3600000', 'retention.bytes': '2000000', 'cleanup.policy': 'compact', 'segment.bytes': String(64 * 1024 * 1024) });
    for (const p of [0, 1]) {
      const args = b.broker.core.stream('/', `${topic}-${p}`)!.arguments;
      expect(args['x-max-length-bytes']).toBe(2000000);
      expect(args['x-max-age']).toBe('3600s');
      expect(args['x-stream-compaction']).toBe('key');
    }
  });

  it('v1 (flexible): DELETE goes back to the default, SUBTRACT takes compact off; validate_only changes nothing', async () => {
    const topic = uniqueTopic('incr1');
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '60000' }, { name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '500000' }] }],
    });
    const dry = await incrementalAlter(1, [{ type: TOPIC, name: topic, configs: [{ name: 'retention.ms', op: DELETE, value: null }] }], true);
    expect(dry[0]!.code).toBe(0);
    expect((await configsOf(topic))['retention.ms']).toBe('60000');
    const res = await incrementalAlter(1, [
      {
        type: TOPIC,
        name: topic,
        configs: [
          { name: 'retention.ms', op: DELETE, value: null },
          { name: 'cleanup.policy', op: SUBTRACT, value: 'compact' },
        ],
      },
    ]);
    expect(res).toEqual([{ code: 0, message: null, type: TOPIC, name: topic }]);
    expect(await configsOf(topic)).toEqual({ 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete', 'segment.bytes': '500000' });
    const args = b.broker.core.stream('/', `${topic}-0`)!.arguments;
    expect(args['x-max-age']).toBeUndefined();
    expect(args['x-stream-compaction']).toBeUndefined();
    expect(args['x-stream-max-segment-size-bytes']).toBe(500000);
  });

  it("errors per resource, as Kafka's: nothing changes for a refused resource, the others still apply", async () => {
    const topic = uniqueTopic('incrbad');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.bytes', value: '1000' }] }] });
    const missing = uniqueTopic('nope');
    const res = await incrementalAlter(0, [
      { type: TOPIC, name: topic, configs: [{ name: 'retention.ms', op: APPEND, value: '5' }] }, // not a list setting
      { type: TOPIC, name: topic, configs: [{ name: 'retention.ms', op: SET, value: null }] },
      { type: TOPIC, name: topic, configs: [{ name: 'retention.ms', op: SET, value: '1' }, { name: 'retention.ms', op: DELETE, value: null }] },
      { type: TOPIC, name: topic, configs: [{ name: 'max.message.bytes', op: SET, value: '10' }] },
      { type: TOPIC, name: topic, configs: [{ name: 'retention.bytes', op: SET, value: 'lots' }] },
      { type: TOPIC, name: topic, configs: [{ name: 'retention.bytes', op: 9, value: '1' }] },
      { type: TOPIC, name: missing, configs: [{ name: 'retention.ms', op: SET, value: '1000' }] },
      { type: BROKER, name: '0', configs: [{ name: 'log.retention.ms', op: SET, value: '1000' }] },
      { type: TOPIC, name: topic, configs: [{ name: 'segment.bytes', op: SET, value: '700000' }] },
    ]);
    expect(res.map((x) => x.code)).toEqual([INVALID_CONFIG, INVALID_REQUEST, INVALID_REQUEST, INVALID_CONFIG, INVALID_CONFIG, INVALID_REQUEST, UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST, 0]);
    expect(res[0]!.message).toMatch(/append is not allowed/);
    expect(await configsOf(topic)).toEqual({ 'retention.ms': '-1', 'retention.bytes': '1000', 'cleanup.policy': 'delete', 'segment.bytes': '700000' });
  });
});
