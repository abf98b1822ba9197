/**
 * Entry point of a forked bench process. Hosts one or more roles (one per
 * process in `fork` mode; the publisher alone, or all consumers, in `split`
 * mode): each `start` message, tagged with a role id, starts one. The process
 * exits once every role it started has reported `done` or `failed`, or when
 * the coordinator goes away.
 */
import { ConsumerRole } from './consumer.mjs';
import { parentChannel } from './link.mjs';
import { PublisherRole } from './publisher.mjs';

const channel = parentChannel();
/** @type {Set<string>} roles started here and not yet finished */
const running = new Set();
let failures = 0;

process.on('message', (raw) => {
  const message = /** @type {import('./link.mjs').LinkMessage} */ (raw);
  if (message.type !== 'start') return;
  const id = String(message.id);
  if (running.has(id)) return;
  running.add(id);
  const link = finishingLink(id);
  const config = /** @type {any} */ (message.config);
  const role = message.role === 'publisher' ? new PublisherRole(config, link) : new ConsumerRole(config, link);
  role.start().catch((/** @type {Error} */ err) => link.send({ type: 'failed', error: `${message.role} start: ${err.message}` }));
});

// The coordinator died or closed the channel: nothing left to report to.
process.on('disconnect', () => process.exit(1));

/**
 * The role's link, which also notices the role's last message.
 * @param {string} id
 * @returns {import('./link.mjs').Link}
 */
function finishingLink(id) {
  const link = channel.linkFor(id);
  return {
    send(message) {
      link.send(message);
      if (message.type !== 'done' && message.type !== 'failed') return;
      if (message.type === 'failed') failures++;
      running.delete(id);
      // Let the final IPC message flush before exiting.
      if (running.size === 0) setTimeout(() => process.exit(failures > 0 ? 1 : 0), 50);
    },
    onMessage: (handler) => link.onMessage(handler),
  };
}
