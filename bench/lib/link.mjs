/**
 * The message pipe between the coordinator and one role (publisher or
 * consumer). In `fork` mode it is the child-process IPC channel; in `inline`
 * mode the role runs in the coordinator's process and the pipe is a pair of
 * microtask-deferred calls (deferred so that a handler never re-enters the
 * sender's code).
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
 * The coordinator's side of a forked child.
 * @param {import('node:child_process').ChildProcess} child
 * @returns {Link}
 */
export function childLink(child) {
  return {
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (handler) => { child.on('message', (m) => handler(/** @type {LinkMessage} */ (m))); },
  };
}

/**
 * A forked child's side of its IPC channel.
 * @returns {Link}
 */
export function parentLink() {
  if (!process.send) throw new Error('parentLink() needs a process started with child_process.fork');
  return {
    send: (message) => {
      if (process.connected) process.send?.(message);
    },
    onMessage: (handler) => { process.on('message', (m) => handler(/** @type {LinkMessage} */ (m))); },
  };
}
