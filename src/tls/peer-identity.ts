/**
 * Who a TLS client proved to be: the subject of a certificate that verified against the
 * configured CA. RabbitMQ's `ssl_cert_login_from`: the common name (default), or the whole
 * distinguished name in RFC 4514 order (most specific first: `CN=alice,O=Example,C=FR`).
 */
import { X509Certificate } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { CertLoginFrom } from './settings.js';

/**
 * The login name a verified client certificate gives, or null: not TLS, no certificate,
 * or one that did not verify (with verify_none nothing is asked for, so always null).
 * `socket` is whatever the listener has (a WebSocket listener passes `req.socket`).
 */
export function verifiedPeerName(socket: unknown, from: CertLoginFrom): string | null {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return null;
  if (from === 'common_name') {
    const cn = cert.subject?.CN as string | string[] | undefined;
    // a subject with several CNs names no single user (RabbitMQ takes one; we refuse to guess)
    return typeof cn === 'string' && cn !== '' ? cn : null;
  }
  return distinguishedName(new X509Certificate(cert.raw).subject);
}

/** X509Certificate.subject ("C=FR\nO=Example\nCN=alice") → "CN=alice,O=Example,C=FR" (RFC 4514 §2.1). */
export function distinguishedName(subject: string): string | null {
  const parts = subject.split('\n').filter((p) => p !== '');
  if (parts.length === 0) return null;
  return parts.reverse().map(escapeRdn).join(',');
}

/** RFC 4514 §2.4: `,` `+` `"` `\` `<` `>` `;` in a value are escaped with a backslash. */
function escapeRdn(attr: string): string {
  const eq = attr.indexOf('=');
  if (eq < 0) return attr;
  return attr.slice(0, eq + 1) + attr.slice(eq + 1).replace(/[,+"\\<>;]/g, (c) => '\\' + c);
}
