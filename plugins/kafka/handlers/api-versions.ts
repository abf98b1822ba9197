/** ApiVersions: exactly the APIs and versions implemented (codec/api-keys.ts). */
import { decodeApiVersions, encodeApiVersions } from '../codec/messages/api-versions.js';
import { supportedList, type KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';

export function handleApiVersions(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  decodeApiVersions(r, h.apiVersion);
  c.answer(slot, h, (w) => encodeApiVersions(w, h.apiVersion, { errorCode: 0, apiKeys: supportedList() }));
}
