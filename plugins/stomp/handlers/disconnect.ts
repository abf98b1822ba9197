/** DISCONNECT (STOMP 1.2 "DISCONNECT"): RECEIPT if asked, then the server closes. */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';

export function handleDisconnect(c: StompConnection, frame: StompFrame): void {
  const receipt = frame.headers['receipt'];
  if (receipt !== undefined) c.sendReceipt(receipt);
  c.close();
}
