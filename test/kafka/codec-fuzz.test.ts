/**
 * Every request decoder and the record-batch decoder on seeded random and mutated bytes:
 * a value or the codec's own error (KafkaDecodeError, BatchError), never another exception
 * (a RangeError from a read past the end, a TypeError …) that would escape as a crash.
 */
import { describe, expect, it } from 'vitest';
import { KafkaDecodeError, Reader } from '../../plugins/kafka/codec/reader.js';
import { BatchError, decodeBatches, encodeBatch } from '../../plugins/kafka/codec/records.js';
import { readRequestHeader } from '../../plugins/kafka/codec/header.js';
import { decodeApiVersions } from '../../plugins/kafka/codec/messages/api-versions.js';
import { decodeMetadata } from '../../plugins/kafka/codec/messages/metadata.js';
import { decodeProduce } from '../../plugins/kafka/codec/messages/produce.js';
import { decodeFetch } from '../../plugins/kafka/codec/messages/fetch.js';
import { decodeListOffsets } from '../../plugins/kafka/codec/messages/list-offsets.js';
import * as groups from '../../plugins/kafka/codec/messages/groups.js';
import * as offsets from '../../plugins/kafka/codec/messages/offsets.js';
import * as admin from '../../plugins/kafka/codec/messages/admin.js';
import { FUZZ_SEED } from '../helpers/fuzz-seed.js';
import { Prng } from '../helpers/prng.js';

const decoders: [string, (r: Reader, v: number) => unknown, number][] = [
  ['ApiVersions', decodeApiVersions, 3],
  ['Metadata', decodeMetadata, 8],
  ['Produce', decodeProduce, 7],
  ['Fetch', decodeFetch, 11],
  ['ListOffsets', decodeListOffsets, 5],
  ['FindCoordinator', groups.decodeFindCoordinator, 2],
  ['JoinGroup', groups.decodeJoinGroup, 5],
  ['SyncGroup', groups.decodeSyncGroup, 3],
  ['Heartbeat', groups.decodeHeartbeat, 3],
  ['LeaveGroup', groups.decodeLeaveGroup, 3],
  ['DescribeGroups', groups.decodeDescribeGroups, 4],
  ['OffsetCommit', offsets.decodeOffsetCommit, 7],
  ['OffsetFetch', offsets.decodeOffsetFetch, 5],
  ['CreateTopics', admin.decodeCreateTopics, 4],
  ['DeleteTopics', admin.decodeDeleteTopics, 3],
  ['CreatePartitions', admin.decodeCreatePartitions, 1],
  ['DescribeConfigs', admin.decodeDescribeConfigs, 3],
  ['AlterConfigs', admin.decodeAlterConfigs, 1],
  ['IncrementalAlterConfigs', admin.decodeIncrementalAlterConfigs, 1],
  ['InitProducerId', admin.decodeInitProducerId, 1],
];

function randomBytes(rng: Prng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.chance(0.3) ? 0 : rng.chance(0.1) ? 0xff : rng.int(256);
  return b;
}

/** @returns whether `fn` decoded; rethrows anything but the codec's own errors */
const decodesOrCodecError = (fn: () => unknown, ...allowed: (new (...a: never[]) => Error)[]): boolean => {
  try {
    fn();
    return true;
  } catch (e) {
    if (!allowed.some((k) => e instanceof k)) throw e;
    return false;
  }
};

describe('codec fuzz', () => {
  it('request decoders: a value or KafkaDecodeError', () => {
    const rng = new Prng(FUZZ_SEED);
    let decoded = 0;
    for (let i = 0; i < 4000; i++) {
      const [, decode, maxV] = rng.pick(decoders);
      const buf = randomBytes(rng, rng.int(80));
      if (decodesOrCodecError(() => decode(new Reader(buf), rng.int(maxV + 1)), KafkaDecodeError)) decoded++;
      decodesOrCodecError(() => readRequestHeader(new Reader(buf)), KafkaDecodeError);
    }
    // random bytes are mostly refused, but not all: the decoders are not refusing everything
    expect(decoded).toBeGreaterThan(0);
  });

  it('record batches: mutated and truncated valid batches decode or fail with BatchError', () => {
    const rng = new Prng(FUZZ_SEED ^ 0x5a5a);
    const valid = encodeBatch(
      Array.from({ length: 5 }, (_v, i) => ({ offset: i, timestamp: 1_700_000_000_000 + i, key: Buffer.from(`k${i}`), value: Buffer.from(`value ${i}`), headers: [{ key: 'h', value: Buffer.from('x') }] })),
    );
    const gz = encodeBatch([{ offset: 0, timestamp: 1, key: null, value: Buffer.from('gz'), headers: [] }], { compression: 1 });
    let decoded = 0;
    for (let i = 0; i < 4000; i++) {
      const b = Buffer.from(rng.chance(0.5) ? valid : gz);
      const kind = rng.int(3);
      if (kind === 0) for (let j = 0; j < 1 + rng.int(3); j++) b[rng.int(b.length)] = rng.int(256);
      const input = kind === 1 ? b.subarray(0, rng.int(b.length)) : kind === 2 ? Buffer.concat([b, randomBytes(rng, rng.int(20))]) : b;
      try {
        decodeBatches(input, { left: 1 << 20 });
        decoded++;
      } catch (e) {
        if (!(e instanceof BatchError)) throw e;
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});
