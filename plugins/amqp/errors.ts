/**
 * BrokerError → AMQP: which close (channel.close for soft errors, connection.close for hard
 * ones, AMQP 0-9-1 §1.2 reply codes) with which code and text. Anything that is not a
 * BrokerError is a bug on our side: 541 INTERNAL_ERROR on the connection, details in the log
 * only. Never match on message text.
 */
import { BrokerError, isBrokerError } from '../../src/core/index.js';
import type { Logger } from '../../src/log/index.js';
import { methodName } from './codec/methods.js';

export interface CloseReason {
  scope: 'channel' | 'connection';
  replyCode: number;
  /** at most 255 octets: a short string on the wire */
  replyText: string;
  /** true when `error` was not a BrokerError (to be logged with its stack) */
  internal: boolean;
}

export function closeReasonOf(error: unknown): CloseReason {
  if (isBrokerError(error)) {
    return { scope: error.scope, replyCode: error.replyCode, replyText: clampShortstr(error.message), internal: false };
  }
  return { scope: 'connection', replyCode: 541, replyText: 'INTERNAL_ERROR', internal: true };
}

/** `closeReasonOf`, logged: a bug with its stack at error level, a client's fault at warn. */
export function loggedCloseReason(log: Logger, error: unknown, methodId: number): CloseReason {
  const reason = closeReasonOf(error);
  const method = methodId > 0 ? methodName(methodId) : undefined;
  if (reason.internal) log.error('internal error', { method, error: (error as Error)?.stack ?? String(error) });
  else log.warn('connection error', { method, replyCode: reason.replyCode, reason: reason.replyText });
  return reason;
}

// The errors the front-end raises itself, about framing and the channel state machine; the
// core's catalog has constructors for the others (notAllowed, preconditionFailed …).
export { commandInvalid, notAllowed, notImplemented, preconditionFailed } from '../../src/core/index.js';
export const channelError = (text: string) => new BrokerError('CHANNEL_ERROR', `CHANNEL_ERROR - ${text}`);
export const unexpectedFrame = (text: string) => new BrokerError('UNEXPECTED_FRAME', `UNEXPECTED_FRAME - ${text}`);

/** Cut a reply text to 255 UTF-8 octets without splitting a character. */
export function clampShortstr(text: string): string {
  if (Buffer.byteLength(text) <= 255) return text;
  let cut = text.slice(0, 255);
  while (Buffer.byteLength(cut) > 255) cut = cut.slice(0, -1);
  return cut;
}
