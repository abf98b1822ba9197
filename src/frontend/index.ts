/**
 * The kit every protocol front-end is built from (plugins import it through this file only):
 * the listener set (TCP, TLS, WebSocket listeners; the connection registry; alarm fan-out;
 * graceful stop), the peer a connection was accepted from, and the publish gate that holds a
 * connection's publishes during a resource alarm.
 */
export { ListenerSet, type ConnectionRegistry, type FrontendConnection, type FrontendEnv, type ListenerSetOptions } from './listener-set.js';
export type { ListenerSettings, WebSocketEndpoint } from './endpoints.js';
export { socketPeer, streamPeer, type Peer, type PeerInfo } from './peer.js';
export { PublishGate, type GateOwner } from './publish-gate.js';
export { destroyStream, endStream, listenTo, type StreamListener } from './stream-events.js';
export { deadlines, type Expiring } from './deadlines.js';
export { BodyPump, type PumpOwner } from './body-pump.js';
export { keepUpWithJournal, type BodySource } from './journal-backpressure.js';
export { isSharedReadBuffer, readIntoOwnedBuffers, sharedShortRead, type OwnedReader } from './owned-reads.js';
export { SocketTraffic } from '../util/socket-traffic.js';
export { BodiesAfterWrites } from './bodies-after-writes.js';
