/** ABORT (STOMP 1.2 "ABORT"): forget what the transaction buffered. */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { openTransaction, requireHeader } from './headers.js';

export function handleAbort(c: StompConnection, frame: StompFrame): void {
  const tx = requireHeader(frame, 'transaction');
  openTransaction(c, tx);
  c.transactions.delete(tx);
}
