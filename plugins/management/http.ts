/**
 * HTTP plumbing shared by the routes: the request a handler sees, the response it returns,
 * and errors as RabbitMQ's management API writes them — `{"error": …, "reason": …}` with
 * its status codes (400 bad_request, 401 not_authorised, 404 Object Not Found, 405).
 */
import type { IncomingMessage } from 'node:http';
import { isBrokerError } from '../../src/core/index.js';
import type { Principal } from './auth.js';
import type { ManagementServices } from './services.js';

export interface ApiRequest {
  readonly method: string;
  /** path parameters by name, URL-decoded (`/api/queues/{vhost}/{name}`: vhost '/' arrives as %2F) */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly principal: Principal;
  readonly services: ManagementServices;
  /** the parsed JSON body ({} when empty); 400 when it is not JSON */
  body(): Promise<Record<string, unknown>>;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
  }
}

export const ok = (body: unknown): ApiResponse => ({ status: 200, body });
export const created = (): ApiResponse => ({ status: 201 });
export const noContent = (): ApiResponse => ({ status: 204 });

export const notFound = () => new HttpError(404, 'Object Not Found', 'Not Found');
export const badRequest = (reason: string) => new HttpError(400, 'bad_request', reason);
export const notAuthorised = (reason: string) => new HttpError(401, 'not_authorised', reason);

/**
 * A BrokerError from the core as the management API reports it: access refusals as 401
 * (RabbitMQ's API answers them so), a missing object as 404, the rest 400 with the AMQP
 * text as the reason. Anything else is a bug: 500.
 */
export function httpErrorOf(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (isBrokerError(e)) {
    if (e.kind === 'ACCESS_REFUSED' || e.kind === 'NOT_ALLOWED') return notAuthorised(e.message);
    if (e.kind === 'NOT_FOUND') return new HttpError(404, 'not_found', e.message);
    return badRequest(e.message);
  }
  return new HttpError(500, 'internal_error', (e as Error)?.message ?? String(e));
}

/** JSON with bigints as numbers (or strings past 2^53) and Buffers as text. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    return v;
  });
}

/** A string field of a JSON body, or 400. */
export function stringField(body: Record<string, unknown>, key: string, fallback?: string): string {
  const v = body[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string') throw badRequest(`[{key_missing,${key}}]`);
  return v;
}

/** A boolean field that RabbitMQ also accepts as "true"/"false" text (forms). */
export function boolField(body: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = body[key];
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw badRequest(`${key} must be a boolean`);
}

export function intField(body: Record<string, unknown>, key: string, fallback: number): number {
  const v = body[key];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`${key} must be an integer`);
  return n;
}
