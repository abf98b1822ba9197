/** Header checks shared by the command handlers. */
import type { StompFrame } from '../frame.js';
import type { StompConnection } from '../connection.js';
import { invalidHeader, missingHeader, StompError } from '../errors.js';

export function requireHeader(frame: StompFrame, name: string): string {
  const v = frame.headers[name];
  if (v === undefined) throw missingHeader(frame.command, name);
  return v;
}

/** The frames buffered by an open transaction; an unknown name is an error (RabbitMQ: "Bad transaction"). */
export function openTransaction(c: StompConnection, tx: string): StompFrame[] {
  const frames = c.transactions.get(tx);
  if (!frames) throw new StompError('Bad transaction', `Invalid transaction identifier: '${tx}'`);
  return frames;
}

export function nonNegativeInteger(name: string, value: string): number {
  const t = value.trim();
  if (!/^\d{1,9}$/.test(t)) throw invalidHeader(name, value, 'is not a non-negative integer');
  return Number(t);
}
