/**
 * The TLS layer's entry module: the broker-wide `ssl_options` as TLS servers with shared
 * guards, and a verified client certificate's login name (configuration.md#tls).
 */
export { TlsListeners, type TlsListenerOptions } from './tls-server.js';
export { type TlsSettings, type PeerVerification, type CertLoginFrom, DEFAULT_TLS_SETTINGS } from './settings.js';
export { verifiedPeerName, distinguishedName } from './peer-identity.js';
