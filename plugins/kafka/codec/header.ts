/**
 * Request and response headers (kafka.apache.org/protocol "Headers"): request header v1
 * (api key, version, correlation id, nullable client id) and v2 (v1 + tagged fields) for
 * flexible versions; response header v0 (correlation id) and v1 (+ tagged fields).
 * ApiVersions answers always use response header v0, whatever the request's version
 * (KIP-511), so that a client can read the answer before it knows our versions.
 */
import { ApiKey, SUPPORTED } from './api-keys.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** whether the body uses compact types and tagged fields */
  flexible: boolean;
}

/** Read a request header; the reader is left at the body. The key and version may be unsupported. */
export function readRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString();
  const range = SUPPORTED.get(apiKey);
  const flexible = range !== undefined && apiVersion >= range.flexibleFrom;
  // an ApiVersions newer than ours may come without the tagged fields we would expect (KIP-511: answer it anyway)
  const newerApiVersions = apiKey === ApiKey.ApiVersions && apiVersion > range!.max && r.remaining === 0;
  if (flexible && !newerApiVersions) r.skipTaggedFields();
  return { apiKey, apiVersion, correlationId, clientId, flexible };
}

/** Start a response frame: size (patched by `finishFrame`), correlation id, tagged fields when flexible. */
export function startResponse(h: RequestHeader, sizeHint = 256): { w: Writer; sizeAt: number } {
  const w = new Writer(sizeHint);
  const sizeAt = w.reserveInt32();
  w.int32(h.correlationId);
  if (h.flexible && h.apiKey !== ApiKey.ApiVersions) w.emptyTaggedFields();
  return { w, sizeAt };
}

export function finishFrame(w: Writer, sizeAt: number): Buffer[] {
  w.patchInt32(sizeAt, w.length - 4);
  return w.toChunks();
}
