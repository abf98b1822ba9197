/**
 * COMMIT (STOMP 1.2 "COMMIT"): apply the transaction's SENDs, ACKs and NACKs in the order
 * they came. Its receipt waits for the confirms of every message it published (each confirm
 * waits for all of that publish's durability points), not only the last one's.
 */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { publishFrame } from './send.js';
import { settleFrame } from './ack.js';
import { openTransaction, requireHeader } from './headers.js';

export function handleCommit(c: StompConnection, frame: StompFrame): void {
  const tx = requireHeader(frame, 'transaction');
  const frames = openTransaction(c, tx);
  c.transactions.delete(tx);
  const receipt = frame.headers['receipt'];
  let lastToken = 0;
  for (const f of frames) {
    if (f.command === 'SEND') lastToken = publishFrame(c, f, receipt !== undefined);
    else settleFrame(c, f, f.command === 'ACK');
  }
  if (receipt === undefined) return;
  if (lastToken === 0) c.sendReceipt(receipt);
  else c.receipts.after(lastToken, receipt);
}
