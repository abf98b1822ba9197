/**
 * The kit every protocol front-end is built from (plugins import it through this file only):
 * the listener set (TCP, TLS, WebSocket listeners; the connection registry; alarm fan-out;
 * graceful stop) and the peer a connection was accepted from.
 */
export { ListenerSet, type ConnectionRegistry, type FrontendConnection, type ListenerSetOptions } from './listener-set.js';
export type { Endpoint, WebSocketEndpoint } from './endpoints.js';
export { socketPeer, streamPeer, type Peer, type PeerInfo } from './peer.js';
export { SocketTraffic } from '../util/socket-traffic.js';
