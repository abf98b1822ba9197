/**
 * Entry point of a forked bench process: waits for `start` from the
 * coordinator, runs one role (publisher or consumer) and exits when the role
 * has reported `done` or `failed`, or when the coordinator goes away.
 */
import { ConsumerRole } from './consumer.mjs';
import { parentLink } from './link.mjs';
import { PublisherRole } from './publisher.mjs';

const link = parentLink();
let started = false;

link.onMessage((message) => {
  if (message.type !== 'start' || started) return;
  started = true;
  const config = /** @type {any} */ (message.config);
  const role = message.role === 'publisher' ? new PublisherRole(config, exitingLink()) : new ConsumerRole(config, exitingLink());
  role.start().catch((/** @type {Error} */ err) => {
    link.send({ type: 'failed', error: `${message.role} start: ${err.message}` });
    exitSoon(1);
  });
});

// The coordinator died or closed the channel: nothing left to report to.
process.on('disconnect', () => exitSoon(0));

/**
 * A link that exits the process after the final message has been handed to IPC.
 * @returns {import('./link.mjs').Link}
 */
function exitingLink() {
  return {
    send(message) {
      link.send(message);
      if (message.type === 'done') exitSoon(0);
      else if (message.type === 'failed') exitSoon(1);
    },
    onMessage: (handler) => link.onMessage(handler),
  };
}

/** @param {number} code */
function exitSoon(code) {
  // Let the IPC message flush before exiting.
  setTimeout(() => process.exit(code), 50).unref();
  process.exitCode = code;
}
