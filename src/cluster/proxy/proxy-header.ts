/**
 * PROXY protocol version 1 (HAProxy's proxy-protocol.txt §2.1): one text line a proxy sends
 * before the client's bytes, naming the client's address and port and the one it connected to:
 *
 *   PROXY TCP4 192.0.2.7 198.51.100.1 56324 5672\r\n
 *   PROXY UNKNOWN\r\n
 *
 * At most 107 bytes with the CRLF. Pure: no sockets here.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const PROXY_V1_MAX = 107;
const PREFIX = Buffer.from('PROXY ');

export interface ProxiedAddress {
  family: 'IPv4' | 'IPv6';
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
}

/** '::ffff:127.0.0.1' → '127.0.0.1': the form cluster members' addresses are compared in. */
export function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function formatProxyV1(source: { address: string; port: number }, destination: { address: string; port: number }): string {
  const src = plainAddress(source.address);
  const dst = plainAddress(destination.address);
  if (isIPv4(src) && isIPv4(dst)) return `PROXY TCP4 ${src} ${dst} ${source.port} ${destination.port}\r\n`;
  if (isIPv6(src) || isIPv6(dst)) {
    const v6 = (a: string) => (isIPv4(a) ? `::ffff:${a}` : a);
    return `PROXY TCP6 ${v6(src)} ${v6(dst)} ${source.port} ${destination.port}\r\n`;
  }
  return 'PROXY UNKNOWN\r\n';
}

export type ProxyParse =
  | { kind: 'none' } // the bytes do not start with a PROXY header
  | { kind: 'partial' } // could still be one: read more
  | { kind: 'invalid'; reason: string }
  | { kind: 'header'; length: number; address: ProxiedAddress | null }; // null: PROXY UNKNOWN

/** Look at the first bytes of a connection. */
export function parseProxyV1(buf: Buffer): ProxyParse {
  const n = Math.min(buf.length, PREFIX.length);
  if (buf.compare(PREFIX, 0, n, 0, n) !== 0) return { kind: 'none' };
  const end = buf.indexOf('\r\n');
  if (end < 0) return buf.length >= PROXY_V1_MAX ? { kind: 'invalid', reason: 'no CRLF within 107 bytes' } : { kind: 'partial' };
  if (end + 2 > PROXY_V1_MAX) return { kind: 'invalid', reason: 'header longer than 107 bytes' };
  const parts = buf.toString('latin1', 0, end).split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'header', length: end + 2, address: null };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) return { kind: 'invalid', reason: 'malformed header' };
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const valid = proto === 'TCP4' ? isIPv4 : isIPv6;
  const port = (p: string) => (/^\d{1,5}$/.test(p) && Number(p) <= 65535 ? Number(p) : -1);
  if (!valid(src) || !valid(dst) || port(sport) < 0 || port(dport) < 0) return { kind: 'invalid', reason: 'bad address or port' };
  return {
    kind: 'header',
    length: end + 2,
    address: { family: proto === 'TCP4' ? 'IPv4' : 'IPv6', sourceAddress: src, sourcePort: port(sport), destinationAddress: dst, destinationPort: port(dport) },
  };
}
