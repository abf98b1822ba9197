/** BEGIN (STOMP 1.2 "BEGIN"): open a named transaction on this connection. */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { StompError } from '../errors.js';
import { requireHeader } from './headers.js';

export function handleBegin(c: StompConnection, frame: StompFrame): void {
  const tx = requireHeader(frame, 'transaction');
  if (c.transactions.has(tx)) throw new StompError('Bad transaction', `Transaction '${tx}' is already open`);
  c.transactions.set(tx, []);
}
