/**
 * Topic administration: CreateTopics (19) v0-4, DeleteTopics (20) v0-3, CreatePartitions (37)
 * v0-1, DescribeConfigs (32) v0-3, AlterConfigs (33) v0-1, IncrementalAlterConfigs (44) v0-1,
 * InitProducerId (22) v0-1.
 */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

export interface CreatableTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  configs: { name: string; value: string | null }[];
}

export function decodeCreateTopics(r: Reader, v: number): { topics: CreatableTopic[]; timeoutMs: number; validateOnly: boolean } {
  const topics = r.array((r) => {
    const name = r.string();
    const numPartitions = r.int32();
    const replicationFactor = r.int16();
    r.array((r) => ({ index: r.int32(), brokers: r.array((r) => r.int32()) }));
    const configs = r.array((r) => ({ name: r.string(), value: r.nullableString() }));
    return { name, numPartitions, replicationFactor, configs };
  });
  const timeoutMs = r.int32();
  const validateOnly = v >= 1 ? r.bool() : false;
  return { topics, timeoutMs, validateOnly };
}

export interface TopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

export function encodeCreateTopics(w: Writer, v: number, results: TopicResult[]): void {
  if (v >= 2) w.int32(0);
  w.array(results, (w, t) => {
    w.string(t.name).int16(t.errorCode);
    if (v >= 1) w.nullableString(t.errorMessage);
  });
}

export function decodeDeleteTopics(r: Reader, _v: number): { names: string[]; timeoutMs: number } {
  const names = r.array((r) => r.string());
  return { names, timeoutMs: r.int32() };
}

export function encodeDeleteTopics(w: Writer, v: number, results: TopicResult[]): void {
  if (v >= 1) w.int32(0);
  w.array(results, (w, t) => w.string(t.name).int16(t.errorCode));
}

export function decodeCreatePartitions(r: Reader, _v: number): { topics: { name: string; count: number }[]; validateOnly: boolean } {
  const topics = r.array((r) => {
    const name = r.string();
    const count = r.int32();
    r.nullableArray((r) => r.array((r) => r.int32()));
    return { name, count };
  });
  r.int32(); // timeout
  return { topics, validateOnly: r.bool() };
}

export function encodeCreatePartitions(w: Writer, _v: number, results: TopicResult[]): void {
  w.int32(0);
  w.array(results, (w, t) => w.string(t.name).int16(t.errorCode).nullableString(t.errorMessage));
}

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;

export interface ConfigResource {
  type: number;
  name: string;
  /** DescribeConfigs: keys asked for (null = all); AlterConfigs: the new settings */
  keys: string[] | null;
  configs: { name: string; value: string | null }[];
}

export function decodeDescribeConfigs(r: Reader, v: number): ConfigResource[] {
  const resources = r.array((r) => ({ type: r.int8(), name: r.string(), keys: r.nullableArray((r) => r.string()), configs: [] }));
  if (v >= 1) r.bool(); // include synonyms
  if (v >= 3) r.bool(); // include documentation
  return resources;
}

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
}

export interface DescribeConfigsResult {
  errorCode: number;
  errorMessage: string | null;
  type: number;
  name: string;
  configs: DescribedConfig[];
}

export function encodeDescribeConfigs(w: Writer, v: number, results: DescribeConfigsResult[]): void {
  w.int32(0);
  w.array(results, (w, res) => {
    w.int16(res.errorCode).nullableString(res.errorMessage).int8(res.type).string(res.name);
    w.array(res.configs, (w, c) => {
      w.string(c.name).nullableString(c.value).bool(c.readOnly);
      if (v === 0) w.bool(c.isDefault);
      else w.int8(c.isDefault ? 5 : 1); // DEFAULT_CONFIG or DYNAMIC_TOPIC_CONFIG
      w.bool(false); // sensitive
      if (v >= 1) w.int32(0); // synonyms
      if (v >= 3) w.int8(c.name.endsWith('.ms') || c.name.endsWith('.bytes') ? 5 : 2).nullableString(null); // LONG or STRING; no documentation
    });
  });
}

export function decodeAlterConfigs(r: Reader, _v: number): { resources: ConfigResource[]; validateOnly: boolean } {
  const resources = r.array((r) => ({
    type: r.int8(),
    name: r.string(),
    keys: null,
    configs: r.array((r) => ({ name: r.string(), value: r.nullableString() })),
  }));
  return { resources, validateOnly: r.bool() };
}

export function encodeAlterConfigs(w: Writer, _v: number, results: { errorCode: number; errorMessage: string | null; type: number; name: string }[]): void {
  w.int32(0);
  w.array(results, (w, res) => w.int16(res.errorCode).nullableString(res.errorMessage).int8(res.type).string(res.name));
}

/** IncrementalAlterConfigs' operations on one setting (KIP-339) */
export const ConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface IncrementalConfigResource {
  type: number;
  name: string;
  configs: { name: string; op: number; value: string | null }[];
}

/** IncrementalAlterConfigs (44) v0, and v1 in compact form with tagged fields. */
export function decodeIncrementalAlterConfigs(r: Reader, v: number): { resources: IncrementalConfigResource[]; validateOnly: boolean } {
  if (v === 0) {
    const resources = r.array((r) => ({
      type: r.int8(),
      name: r.string(),
      configs: r.array((r) => ({ name: r.string(), op: r.int8(), value: r.nullableString() })),
    }));
    return { resources, validateOnly: r.bool() };
  }
  const resources = r.compactArray((r) => {
    const type = r.int8();
    const name = r.compactString();
    const configs = r.compactArray((r) => {
      const c = { name: r.compactString(), op: r.int8(), value: r.compactNullableString() };
      r.skipTaggedFields();
      return c;
    });
    r.skipTaggedFields();
    return { type, name, configs };
  });
  const validateOnly = r.bool();
  r.skipTaggedFields();
  return { resources, validateOnly };
}

/** AlterConfigs' answer in v0; in compact form with tagged fields in v1. */
export function encodeIncrementalAlterConfigs(w: Writer, v: number, results: { errorCode: number; errorMessage: string | null; type: number; name: string }[]): void {
  if (v === 0) return encodeAlterConfigs(w, v, results);
  w.int32(0);
  w.compactArray(results, (w, res) => w.int16(res.errorCode).compactNullableString(res.errorMessage).int8(res.type).compactString(res.name).emptyTaggedFields());
  w.emptyTaggedFields();
}

export function decodeInitProducerId(r: Reader, _v: number): { transactionalId: string | null; transactionTimeoutMs: number } {
  return { transactionalId: r.nullableString(), transactionTimeoutMs: r.int32() };
}

export function encodeInitProducerId(w: Writer, _v: number, res: { errorCode: number; producerId: number; producerEpoch: number }): void {
  w.int32(0).int16(res.errorCode).int64(res.producerId).int16(res.producerEpoch);
}

export function decodeSaslHandshake(r: Reader): string {
  return r.string();
}

export function encodeSaslHandshake(w: Writer, errorCode: number, mechanisms: string[]): void {
  w.int16(errorCode).array(mechanisms, (w, m) => w.string(m));
}

export function decodeSaslAuthenticate(r: Reader): Buffer {
  return r.bytes();
}

export function encodeSaslAuthenticate(w: Writer, v: number, res: { errorCode: number; errorMessage: string | null; authBytes: Buffer }): void {
  w.int16(res.errorCode).nullableString(res.errorMessage).bytes(res.authBytes);
  if (v >= 1) w.int64(0);
}
