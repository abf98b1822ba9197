/**
 * The one error catalog of the broker core.
 *
 * The core throws `BrokerError`s named by a protocol-neutral kind (the same names
 * RabbitMQ's `#amqp_error{}` records use). Each front-end maps a kind to its own
 * protocol at its edge: AMQP channel/connection close with the reply code below,
 * MQTT reason codes, STOMP ERROR frames. Never match on the message text.
 */
export const ERROR_CATALOG = {
  // soft errors: close the channel (AMQP 0-9-1 §1.2 "Constants", soft-error)
  CONTENT_TOO_LARGE: { replyCode: 311, scope: 'channel' },
  NO_ROUTE: { replyCode: 312, scope: 'channel' },
  NO_CONSUMERS: { replyCode: 313, scope: 'channel' },
  ACCESS_REFUSED: { replyCode: 403, scope: 'channel' },
  NOT_FOUND: { replyCode: 404, scope: 'channel' },
  RESOURCE_LOCKED: { replyCode: 405, scope: 'channel' },
  PRECONDITION_FAILED: { replyCode: 406, scope: 'channel' },
  // hard errors: close the connection
  CONNECTION_FORCED: { replyCode: 320, scope: 'connection' },
  INVALID_PATH: { replyCode: 402, scope: 'connection' },
  FRAME_ERROR: { replyCode: 501, scope: 'connection' },
  SYNTAX_ERROR: { replyCode: 502, scope: 'connection' },
  COMMAND_INVALID: { replyCode: 503, scope: 'connection' },
  CHANNEL_ERROR: { replyCode: 504, scope: 'connection' },
  UNEXPECTED_FRAME: { replyCode: 505, scope: 'connection' },
  RESOURCE_ERROR: { replyCode: 506, scope: 'connection' },
  NOT_ALLOWED: { replyCode: 530, scope: 'connection' },
  NOT_IMPLEMENTED: { replyCode: 540, scope: 'connection' },
  INTERNAL_ERROR: { replyCode: 541, scope: 'connection' },
} as const satisfies Record<string, { replyCode: number; scope: 'channel' | 'connection' }>;

export type ErrorKind = keyof typeof ERROR_CATALOG;

export class BrokerError extends Error {
  readonly kind: ErrorKind;
  /** AMQP 0-9-1 reply code: the canonical numeric form, also used by logs and management. */
  readonly replyCode: number;
  /** Whether the fault ends the session (channel) or the whole connection. */
  readonly scope: 'channel' | 'connection';

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = 'BrokerError';
    this.kind = kind;
    this.replyCode = ERROR_CATALOG[kind].replyCode;
    this.scope = ERROR_CATALOG[kind].scope;
  }
}

export const isBrokerError = (e: unknown): e is BrokerError => e instanceof BrokerError;

// Constructors for the errors the core raises, so texts stay uniform (RabbitMQ's wording,
// which client code and people searching for an error message recognise).
export const notFound = (what: string, name: string, vhost: string) =>
  new BrokerError('NOT_FOUND', `NOT_FOUND - no ${what} '${name}' in vhost '${vhost}'`);
export const accessRefused = (text: string) => new BrokerError('ACCESS_REFUSED', `ACCESS_REFUSED - ${text}`);
export const preconditionFailed = (text: string) =>
  new BrokerError('PRECONDITION_FAILED', `PRECONDITION_FAILED - ${text}`);
export const resourceLocked = (text: string) => new BrokerError('RESOURCE_LOCKED', `RESOURCE_LOCKED - ${text}`);
export const notAllowed = (text: string) => new BrokerError('NOT_ALLOWED', `NOT_ALLOWED - ${text}`);
export const commandInvalid = (text: string) => new BrokerError('COMMAND_INVALID', `COMMAND_INVALID - ${text}`);
export const notImplemented = (text: string) => new BrokerError('NOT_IMPLEMENTED', `NOT_IMPLEMENTED - ${text}`);
