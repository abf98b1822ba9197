/**
 * amqplib plumbing shared by the AMQP end-to-end tests: connections that are closed after
 * each test, error and close events recorded from the moment an emitter exists (amqplib
 * throws from an 'error' emit nobody listens to, which would take the connection down),
 * unique names for a shared broker, and small collectors for deliveries.
 */
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type GetMessage, type Options, type SocketOptions } from 'amqplib';
import * as amqpCallback from 'amqplib/callback_api';
import { afterEach } from 'vitest';

/** What amqplib attaches to errors coming from a channel.close or connection.close. */
export interface AmqpError extends Error {
  code?: number;
  classId?: number;
  methodId?: number;
}

interface Watch {
  errors: AmqpError[];
  closed: boolean;
  closeArg: unknown;
  wake: Set<() => void>;
}

const watches = new WeakMap<EventEmitter, Watch>();

/** Starts recording 'error' and 'close' events of an amqplib connection or channel. */
export function watch<T extends EventEmitter>(emitter: T): T {
  if (watches.has(emitter)) return emitter;
  const w: Watch = { errors: [], closed: false, closeArg: undefined, wake: new Set() };
  watches.set(emitter, w);
  const notify = () => {
    for (const wake of w.wake) wake();
  };
  emitter.on('error', (e: AmqpError) => {
    w.errors.push(e);
    notify();
  });
  emitter.on('close', (arg?: unknown) => {
    w.closed = true;
    w.closeArg = arg;
    notify();
  });
  return emitter;
}

function watchOf(emitter: EventEmitter): Watch {
  const w = watches.get(emitter);
  if (!w) throw new Error('emitter is not watched: create it through the client pool or call watch()');
  return w;
}

function waitOn<R>(emitter: EventEmitter, ready: (w: Watch) => R | undefined, timeoutMs: number, what: string): Promise<R> {
  const w = watchOf(emitter);
  return new Promise((resolve, reject) => {
    const check = () => {
      const r = ready(w);
      if (r === undefined) return false;
      cleanup();
      resolve(r);
      return true;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      w.wake.delete(wake);
    };
    const wake = () => void check();
    w.wake.add(wake);
    check();
  });
}

/** The first 'error' the emitter raised (now or within the timeout). */
export function firstError(emitter: EventEmitter, timeoutMs = 3000): Promise<AmqpError> {
  return waitOn(emitter, (w) => w.errors[0], timeoutMs, "an 'error' event");
}

/** Resolves with the argument of the 'close' event (the error for a connection closed by the server). */
export function closeEvent(emitter: EventEmitter, timeoutMs = 3000): Promise<AmqpError | undefined> {
  return waitOn(emitter, (w) => (w.closed ? { arg: w.closeArg as AmqpError | undefined } : undefined), timeoutMs, "a 'close' event").then(
    (r) => r.arg,
  );
}

export function errorsOf(emitter: EventEmitter): readonly AmqpError[] {
  return watchOf(emitter).errors;
}

export function isClosed(emitter: EventEmitter): boolean {
  return watchOf(emitter).closed;
}

/** Asserts that the promise rejects with an amqplib error carrying `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: number): Promise<AmqpError> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (e) {
    const err = e as AmqpError;
    if (err.code !== code) {
      throw new Error(`expected reply code ${code}, got ${String(err.code)}: ${err.message}`);
    }
    return err;
  }
  throw new Error(`expected a rejection with reply code ${code}, but it resolved with ${JSON.stringify(outcome)}`);
}

/** Names that cannot collide between test runs or with other users of a shared broker. */
export function uniqueName(prefix: string): string {
  return `warren-test.${prefix}.${randomBytes(5).toString('hex')}`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; throws with `what` after the timeout. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Consumes from `queue` until `count` messages arrived; resolves with them (consumer left running). */
export async function consumeCount(
  ch: Channel,
  queue: string,
  count: number,
  options: Options.Consume = {},
  timeoutMs = 3000,
): Promise<{ messages: ConsumeMessage[]; consumerTag: string }> {
  const messages: ConsumeMessage[] = [];
  let done!: () => void;
  const enough = new Promise<void>((resolve) => (done = resolve));
  const { consumerTag } = await ch.consume(
    queue,
    (msg) => {
      if (msg === null) return;
      messages.push(msg);
      if (messages.length === count) done();
    },
    options,
  );
  if (count === 0) done();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`got ${messages.length} of ${count} messages from ${queue} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([enough, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return { messages, consumerTag };
}

/** basic.get until get-empty; returns everything that was in the queue. */
export async function drain(ch: Channel, queue: string, options: Options.Get = { noAck: true }): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (;;) {
    const m = await ch.get(queue, options);
    if (m === false) return out;
    out.push(m);
  }
}

export const bodies = (messages: readonly { content: Buffer }[]) => messages.map((m) => m.content.toString());

/** Publishes on a confirm channel and waits until the broker has confirmed every message. */
export async function publishConfirmed(
  ch: ConfirmChannel,
  exchange: string,
  routingKey: string,
  payloads: readonly (string | Buffer)[],
  options: Options.Publish = {},
): Promise<void> {
  for (const p of payloads) ch.publish(exchange, routingKey, typeof p === 'string' ? Buffer.from(p) : p, options);
  await ch.waitForConfirms();
}

export type CallbackConnection = amqpCallback.Connection;
export type CallbackChannel = amqpCallback.Channel;

/** Turns a node-style callback call into a promise. */
export function callback<T>(call: (cb: (err: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))));
}

/**
 * Opens amqplib connections (promise and callback API) and closes every one of them after
 * each test, whatever state the test left them in.
 */
export class ClientPool {
  readonly #url: () => string;
  readonly #open: Array<{ closed: () => boolean; close: () => Promise<void> }> = [];

  constructor(url: () => string) {
    this.#url = url;
  }

  get url(): string {
    return this.#url();
  }

  /** A promise-API connection; `query` is appended to the URL (e.g. 'heartbeat=1'). */
  async connect(query = '', socketOptions?: SocketOptions): Promise<ChannelModel> {
    const conn = watch(await amqp.connect(withQuery(this.url, query), socketOptions));
    this.#open.push({ closed: () => isClosed(conn), close: () => conn.close() });
    return conn;
  }

  async channel(conn?: ChannelModel): Promise<Channel> {
    return watch(await (conn ?? (await this.connect())).createChannel());
  }

  async confirmChannel(conn?: ChannelModel): Promise<ConfirmChannel> {
    return watch(await (conn ?? (await this.connect())).createConfirmChannel());
  }

  /** One connection with one channel, the common case. */
  async open(): Promise<{ conn: ChannelModel; ch: Channel }> {
    const conn = await this.connect();
    return { conn, ch: await this.channel(conn) };
  }

  async connectCallbackApi(query = ''): Promise<CallbackConnection> {
    const conn = watch(await callback<CallbackConnection>((cb) => amqpCallback.connect(withQuery(this.url, query), cb)));
    this.#open.push({ closed: () => isClosed(conn), close: () => callback<void>((cb) => conn.close(cb as never)) });
    return conn;
  }

  async callbackChannel(conn: CallbackConnection): Promise<CallbackChannel> {
    return watch(await callback<CallbackChannel>((cb) => conn.createChannel(cb)));
  }

  async callbackConfirmChannel(conn: CallbackConnection): Promise<amqpCallback.ConfirmChannel> {
    return watch(await callback<amqpCallback.ConfirmChannel>((cb) => conn.createConfirmChannel(cb)));
  }

  async closeAll(): Promise<void> {
    const open = this.#open.splice(0);
    await Promise.all(open.filter((c) => !c.closed()).map((c) => c.close().catch(() => {})));
  }
}

function withQuery(url: string, query: string): string {
  if (query === '') return url;
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

/** A pool whose connections are closed after each test of the calling file. */
export function useClients(url: () => string): ClientPool {
  const pool = new ClientPool(url);
  afterEach(() => pool.closeAll());
  return pool;
}
