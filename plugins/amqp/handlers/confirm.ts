/** confirm.select (RabbitMQ's publisher confirms, class 85): number publishes from 1 from now on. */
import { M } from '../codec/methods.js';
import { ConfirmTracker } from '../confirms.js';
import { preconditionFailed } from '../errors.js';
import type { MethodHandlers } from './index.js';

export const confirmHandlers: MethodHandlers = {
  confirmSelect(ch, m) {
    if (ch.tx !== null) throw preconditionFailed('cannot switch from tx to confirm mode');
    ch.confirms ??= new ConfirmTracker(ch.id); // selecting again changes nothing
    if (!m.noWait) ch.send({ id: M.confirmSelectOk });
  },
};
