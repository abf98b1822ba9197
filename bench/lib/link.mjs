/**
 * The message pipe between the coordinator and one role (publisher or
 * consumer). In `inline` mode the role runs in the coordinator's process and
 * the pipe is a pair of microtask-deferred calls (deferred so that a handler
 * never re-enters the sender's code). In `fork` and `split` modes roles run
 * in child processes, several roles may share one child, and the pipe is the
 * child's IPC channel with every message tagged with the role's `id`.
 *
 * Messages are plain JSON-compatible objects with a `type` field.
 */

/**
 * @typedef {{ type: string, [key: string]: unknown }} LinkMessage
 * @typedef {{ send(message: LinkMessage): void, onMessage(handler: (message: LinkMessage) => void): void }} Link
 */

/** @returns {{ coordinatorSide: Link, roleSide: Link }} */
export function inlineLinkPair() {
  /** @type {((m: LinkMessage) => void) | null} */
  let toRole = null;
  /** @type {((m: LinkMessage) => void) | null} */
  let toCoordinator = null;
  return {
    coordinatorSide: {
      send: (message) => queueMicrotask(() => toRole?.(message)),
      onMessage: (handler) => { toCoordinator = handler; },
    },
    roleSide: {
      send: (message) => queueMicrotask(() => toCoordinator?.(message)),
      onMessage: (handler) => { toRole = handler; },
    },
  };
}

/**
 * Routes tagged messages arriving on one IPC channel to the link of the role
 * they name. Used on both sides: the coordinator has one per child process,
 * a child has one for its parent.
 */
export class TaggedChannel {
  /**
   * @param {(message: LinkMessage) => void} send   writes to the IPC channel
   * @param {(listener: (message: LinkMessage) => void) => void} listen subscribes to it
   */
  constructor(send, listen) {
    this.send = send;
    /** @type {Map<string, (message: LinkMessage) => void>} */
    this.handlers = new Map();
    listen((message) => this.handlers.get(String(message.id))?.(message));
  }

  /** @param {string} id @returns {Link} the link of the role named `id` */
  linkFor(id) {
    return {
      send: (message) => this.send({ ...message, id }),
      onMessage: (handler) => { this.handlers.set(id, handler); },
    };
  }
}

/**
 * The coordinator's side of a forked child.
 * @param {import('node:child_process').ChildProcess} child
 */
export function childChannel(child) {
  return new TaggedChannel(
    (message) => { if (child.connected) child.send(message); },
    (listener) => { child.on('message', (m) => listener(/** @type {LinkMessage} */ (m))); },
  );
}

/** A forked child's side of its IPC channel. */
export function parentChannel() {
  if (!process.send) throw new Error('parentChannel() needs a process started with child_process.fork');
  return new TaggedChannel(
    (message) => { if (process.connected) process.send?.(message); },
    (listener) => { process.on('message', (m) => listener(/** @type {LinkMessage} */ (m))); },
  );
}
