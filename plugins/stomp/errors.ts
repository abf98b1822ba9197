/**
 * STOMP's side of errors: what goes into an ERROR frame. STOMP has one error frame and no
 * codes, so a `BrokerError` is reported the way RabbitMQ's STOMP plugin reports an AMQP
 * error: `message` is the error's name in lower case (`not_found`, `access_refused`), the
 * body its text. After an ERROR frame the connection closes (STOMP 1.2 "ERROR").
 */
import { isBrokerError } from '../../src/core/index.js';
import { FrameError } from './frame.js';

/** A protocol error found by the plugin itself: a missing header, an unknown command … */
export class StompError extends Error {
  /** the ERROR frame's `message` header: short */
  readonly summary: string;
  constructor(summary: string, detail: string) {
    super(detail);
    this.name = 'StompError';
    this.summary = summary;
  }
}

export interface ErrorReport {
  summary: string;
  detail: string;
  /** not a client mistake: worth a log line with the stack */
  internal: boolean;
}

export function describeError(e: unknown): ErrorReport {
  if (e instanceof StompError || e instanceof FrameError) return { summary: e.summary, detail: e.message, internal: false };
  if (isBrokerError(e)) return { summary: e.kind.toLowerCase(), detail: e.message, internal: false };
  return { summary: 'internal_error', detail: 'Internal error while processing the frame', internal: true };
}

export const missingHeader = (command: string, header: string) =>
  new StompError('Missing header', `${command} frame requires a '${header}' header`);

export const invalidHeader = (header: string, value: string, why: string) =>
  new StompError('Invalid header', `header '${header}' value '${value}' ${why}`);
