/** ApiVersions (key 18) v0-3; v3 is flexible (KIP-511: client software name and version). */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

export interface ApiVersionsRequest {
  clientSoftwareName: string | null;
  clientSoftwareVersion: string | null;
}

export function decodeApiVersions(r: Reader, v: number): ApiVersionsRequest {
  if (v < 3) return { clientSoftwareName: null, clientSoftwareVersion: null };
  const clientSoftwareName = r.compactString();
  const clientSoftwareVersion = r.compactString();
  r.skipTaggedFields();
  return { clientSoftwareName, clientSoftwareVersion };
}

export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: { apiKey: number; min: number; max: number }[];
}

export function encodeApiVersions(w: Writer, v: number, res: ApiVersionsResponse): void {
  w.int16(res.errorCode);
  if (v >= 3) {
    w.compactArray(res.apiKeys, (w, k) => w.int16(k.apiKey).int16(k.min).int16(k.max).emptyTaggedFields());
    w.int32(0); // throttle_time_ms
    w.emptyTaggedFields();
    return;
  }
  w.array(res.apiKeys, (w, k) => w.int16(k.apiKey).int16(k.min).int16(k.max));
  if (v >= 1) w.int32(0);
}
