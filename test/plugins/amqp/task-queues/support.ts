/**
 * Shared plumbing for the task-queue and RPC suites: the broker of the file (Warren in-process,
 * or WARREN_TEST_AMQP_URL), a client pool closed after each test, removal of the shared-named
 * queues a test declared (so a run against a shared RabbitMQ leaves nothing behind), a
 * dead-letter target, an inbox that collects deliveries, and the x-death assertions.
 */
import type { Channel, ConsumeMessage, Message, Options } from 'amqplib';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { uniqueName, useClients, waitFor, type ClientPool } from '../../../helpers/amqp-clients.js';
import { startBroker, type TestBroker } from '../../../helpers/broker.js';

export interface SuiteBroker {
  readonly clients: ClientPool;
  /** The broker of this file (valid inside tests). */
  broker(): TestBroker;
  /** Declares a non-exclusive queue that is deleted after the test (for tests that share it across connections). */
  sharedQueue(ch: Channel, prefix: string, options?: Options.AssertQueue): Promise<string>;
}

/** Starts the file's broker (before all) and stops it (after all); closes clients and shared queues after each test. */
export function useSuiteBroker(): SuiteBroker {
  let broker: TestBroker | undefined;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });
  const clients = useClients(() => broker!.url);
  const toDelete: string[] = [];
  // Registered after useClients, so it runs first (vitest runs afterEach hooks in reverse):
  // the queues go while the test's own connections may still be open.
  afterEach(async () => {
    const names = toDelete.splice(0);
    if (names.length === 0) return;
    const ch = await clients.channel();
    for (const name of names) await ch.deleteQueue(name);
  });
  return {
    clients,
    broker: () => broker!,
    async sharedQueue(ch, prefix, options = {}) {
      const name = uniqueName(prefix);
      toDelete.push(name);
      await ch.assertQueue(name, { durable: false, ...options });
      return name;
    },
  };
}

/**
 * A fanout exchange and an exclusive queue bound to it, to use as a dead-letter target.
 * Both go with the connection (the exchange auto-deletes when the queue's binding goes).
 */
export async function deadLetterTarget(ch: Channel, type: 'fanout' | 'direct' | 'topic' = 'fanout', bindingKey = ''): Promise<{ dlx: string; dlq: string }> {
  const dlx = uniqueName('dlx');
  await ch.assertExchange(dlx, type, { durable: false, autoDelete: true });
  const { queue: dlq } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(dlq, dlx, type === 'fanout' ? '' : bindingKey);
  return { dlx, dlq };
}

/** Collects a consumer's deliveries; `null` (a server-sent basic.cancel) is recorded as `cancelled`. */
export class Inbox {
  readonly messages: ConsumeMessage[] = [];
  /** Date.now() at each delivery, parallel to `messages` */
  readonly arrivals: number[] = [];
  cancelled = false;

  /** Pass as the consumer callback. */
  readonly onMessage = (m: ConsumeMessage | null): void => {
    if (m === null) {
      this.cancelled = true;
    } else {
      this.messages.push(m);
      this.arrivals.push(Date.now());
    }
  };

  /** When the delivery with body `body` arrived. */
  arrivalOf(body: string): number {
    const i = this.bodies.indexOf(body);
    if (i < 0) throw new Error(`no delivery '${body}'`);
    return this.arrivals[i]!;
  }

  get bodies(): string[] {
    return this.messages.map((m) => m.content.toString());
  }

  /** Waits until at least `count` messages arrived; returns them all. */
  async atLeast(count: number, timeoutMs = 3000): Promise<ConsumeMessage[]> {
    await explained(waitFor(() => this.messages.length >= count, `${count} deliveries`, timeoutMs), () => `have: [${this.bodies.join(', ')}]`);
    return this.messages;
  }

  /** Waits for the delivery whose body is `body`. */
  async find(body: string, timeoutMs = 3000): Promise<ConsumeMessage> {
    await explained(waitFor(() => this.bodies.includes(body), `the delivery '${body}'`, timeoutMs), () => `have: [${this.bodies.join(', ')}]`);
    return this.messages.find((m) => m.content.toString() === body)!;
  }
}

/** Starts consuming `queue` into a new inbox. */
export async function consumeInto(ch: Channel, queue: string, options: Options.Consume = {}): Promise<Inbox & { consumerTag: string }> {
  const inbox = new Inbox();
  const { consumerTag } = await ch.consume(queue, inbox.onMessage, options);
  return Object.assign(inbox, { consumerTag });
}

/** basic.get, polling until a message is there. */
export async function getOne(ch: Channel, queue: string, what = `a message in ${queue}`, timeoutMs = 3000): Promise<Message> {
  let got: Message | false = false;
  await waitFor(async () => (got = await ch.get(queue, { noAck: true })) !== false, what, timeoutMs);
  return got as unknown as Message;
}

/** Polls queue.declare passive until the queue holds `count` ready messages. */
export async function waitForReady(ch: Channel, queue: string, count: number, timeoutMs = 3000): Promise<void> {
  let last = -1;
  await explained(
    waitFor(async () => (last = (await ch.checkQueue(queue)).messageCount) === count, `${count} ready messages in ${queue}`, timeoutMs),
    () => `last seen: ${last}`,
  );
}

/** Adds what was seen by the time a wait failed to its error message. */
async function explained(wait: Promise<void>, seen: () => string): Promise<void> {
  try {
    await wait;
  } catch (e) {
    if (e instanceof Error) e.message += ` (${seen()})`;
    throw e;
  }
}

/** The shape amqplib decodes an AMQP timestamp (field type 'T') into. */
export interface DecodedTimestamp {
  '!': 'timestamp';
  value: number;
}

/** One entry of the x-death header as amqplib decodes it. */
export interface XDeath {
  count: number;
  reason: string;
  queue: string;
  time: DecodedTimestamp;
  exchange: string;
  'routing-keys': string[];
  'original-expiration'?: string;
}

export function xDeathOf(m: Message): XDeath[] {
  const deaths = m.properties.headers?.['x-death'] as XDeath[] | undefined;
  expect(Array.isArray(deaths), 'the message carries an x-death array').toBe(true);
  return deaths!;
}

/**
 * Asserts one x-death entry field by field, as RabbitMQ writes it: the listed fields exactly
 * (and no others), `time` a timestamp (seconds) taken around the dead-lettering.
 */
export function expectDeath(
  actual: XDeath | undefined,
  expected: Omit<XDeath, 'time'>,
  around: { from: number; to?: number } = { from: Date.now() - 60_000 },
): void {
  expect(actual).toBeDefined();
  const { time, ...rest } = actual!;
  expect(rest).toStrictEqual(expected);
  expect(time).toMatchObject({ '!': 'timestamp' });
  expect(typeof time.value).toBe('number');
  const to = around.to ?? Date.now();
  // whole seconds: floor the lower bound, ceil the upper
  expect(time.value).toBeGreaterThanOrEqual(Math.floor(around.from / 1000));
  expect(time.value).toBeLessThanOrEqual(Math.ceil(to / 1000));
}

/** The x-first-death-* headers RabbitMQ sets once, on the first dead-lettering. */
export function expectFirstDeath(m: Message, reason: string, queue: string, exchange: string): void {
  const h = m.properties.headers ?? {};
  expect({
    reason: h['x-first-death-reason'],
    queue: h['x-first-death-queue'],
    exchange: h['x-first-death-exchange'],
  }).toStrictEqual({ reason, queue, exchange });
}

/**
 * Asserts the complete header table of a dead-lettered message: its own headers plus
 * `x-death` and `x-first-death-{reason,queue,exchange}`. RabbitMQ 3.13 added
 * `x-last-death-{reason,queue,exchange}` (3.10 does not write them): they are allowed, and
 * when present must name the most recent death.
 */
export function expectDeathHeaders(m: Message, own: Record<string, unknown>): void {
  const headers = { ...(m.properties.headers ?? {}) };
  const latest = xDeathOf(m)[0]!;
  const last = ['x-last-death-reason', 'x-last-death-queue', 'x-last-death-exchange'];
  if (last.some((k) => k in headers)) {
    expect({
      reason: headers['x-last-death-reason'],
      queue: headers['x-last-death-queue'],
      exchange: headers['x-last-death-exchange'],
    }).toStrictEqual({ reason: latest.reason, queue: latest.queue, exchange: latest.exchange });
    for (const k of last) delete headers[k];
  }
  expect(Object.keys(headers).sort()).toEqual(
    [...Object.keys(own), 'x-death', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason'].sort(),
  );
  for (const [k, v] of Object.entries(own)) expect(headers[k], `header ${k}`).toStrictEqual(v);
}

/** A message given back by basic.return, as amqplib emits it on the channel's 'return' event. */
export interface ReturnedMessage {
  content: Buffer;
  fields: { replyCode: number; replyText: string; exchange: string; routingKey: string };
  properties: Message['properties'];
}
