/** The util layer's entry module: small data structures and socket helpers with no broker state. */
export { Deque } from './deque.js';
export { MinHeap } from './min-heap.js';
export { listenDualStack, closeServer } from './listen.js';
export { murmur2, partitionForKey } from './murmur2.js';
export { SocketTraffic } from './socket-traffic.js';
export { flatString } from './flat-string.js';
export { SmallMap, SmallSet } from './small-collections.js';
