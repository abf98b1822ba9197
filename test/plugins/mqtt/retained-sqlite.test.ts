/**
 * The durable retained-message backend on its own, on real files in a temp directory:
 * write-behind batches, reopening, properties with bytes, expiry and deleted vhosts at load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/index.js';
import type { RetainedMessage } from '../../../plugins/mqtt/retained.js';
import { decodeProperties, encodeProperties, SqliteRetainedStore } from '../../../plugins/mqtt/retained-sqlite.js';
import { DurabilityPoints, whenAllDurable } from '../../../src/core/durability.js';
import Database from 'better-sqlite3';

const log = createLogger({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'warren-retained-'));
  dirs.push(d);
  return d;
}

const message = (topic: string, payload: string, extra: Partial<RetainedMessage> = {}): RetainedMessage => ({
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  properties: undefined,
  storedAt: Date.now(),
  expiresAt: 0,
  ...extra,
});

const payloads = (s: SqliteRetainedStore, vhost: string, filter: string) =>
  s.match(vhost, filter, Date.now()).map((m) => `${m.topic}=${m.payload.toString()}`).sort();

/** The answer `whenAllDurable` gives for a write's points: 'pending' until it comes. */
function durability(points: DurabilityPoints): { state: () => string } {
  let state = 'pending';
  whenAllDurable(points, { onDurable: (_t, e) => (state = e ? `failed: ${e.message}` : 'durable') }, 0);
  return { state: () => state };
}

describe('SqliteRetainedStore', () => {
  it("a write's durability point is the commit of its batch: acknowledged once the row is in the file", async () => {
    const dir = tempDir();
    const s = new SqliteRetainedStore(dir, log);
    const points = new DurabilityPoints();
    s.put('/', message('d/1', 'kept'), points);
    const d = durability(points);
    expect(d.state()).toBe('pending');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(d.state()).toBe('durable');
    const reader = new Database(join(dir, 'retained.db'), { readonly: true });
    expect((reader.prepare('SELECT payload FROM retained WHERE topic = ?').get('d/1') as { payload: Buffer }).payload.toString()).toBe('kept');
    reader.close();
    s.close();
  });

  it('a batch that cannot be written answers its waiting writes with the error', async () => {
    const dir = tempDir();
    const s = new SqliteRetainedStore(dir, log);
    // another connection takes the table away: the next batch fails
    const other = new Database(join(dir, 'retained.db'));
    other.exec('DROP TABLE retained');
    other.close();
    const points = new DurabilityPoints();
    s.delete('/', 'gone', points);
    const d = durability(points);
    s.flush();
    expect(d.state()).toMatch(/^failed: .*retained/);
    s.close();
  });

  it('answers from memory at once and writes behind, one batch per turn; a reopened store has the last values', async () => {
    const dir = tempDir();
    const s = new SqliteRetainedStore(dir, log);
    s.put('/', message('a/1', 'first'), null);
    s.put('/', message('a/1', 'second'), null);
    s.put('/', message('a/2', 'x'), null);
    s.put('/', message('a/3', 'y'), null);
    s.delete('/', 'a/3', null);
    s.put('other', message('a/1', 'other vhost'), null);
    expect(payloads(s, '/', 'a/#')).toEqual(['a/1=second', 'a/2=x']);
    await new Promise((r) => setImmediate(r));
    // a second handle on the file sees what the first has written (the batch is committed)
    const peek = new SqliteRetainedStore(dir, log);
    expect(payloads(peek, '/', 'a/+')).toEqual(['a/1=second', 'a/2=x']);
    expect(payloads(peek, 'other', '#')).toEqual(['a/1=other vhost']);
    peek.close();
    s.close();
  });

  it('close writes what is still queued', () => {
    const dir = tempDir();
    const s = new SqliteRetainedStore(dir, log);
    s.put('/', message('t', 'written at close'), null);
    s.close();
    const again = new SqliteRetainedStore(dir, log);
    expect(payloads(again, '/', 't')).toEqual(['t=written at close']);
    expect(again.count('/')).toBe(1);
    again.close();
  });

  it('keeps MQTT 5 properties, bytes included', () => {
    const dir = tempDir();
    const properties = {
      contentType: 'application/json',
      payloadFormatIndicator: true,
      userProperties: { a: '1', b: ['x', 'y'] },
      correlationData: Buffer.from([0, 0xff, 0x10]),
      responseTopic: 'r/t',
    };
    const s = new SqliteRetainedStore(dir, log);
    s.put('/', message('p', 'v', { properties, qos: 2 }), null);
    s.close();
    const again = new SqliteRetainedStore(dir, log);
    const [m] = again.match('/', 'p', Date.now());
    expect(m.qos).toBe(2);
    expect(m.properties).toEqual(properties);
    expect(Buffer.isBuffer(m.properties?.correlationData)).toBe(true);
    again.close();
    expect(encodeProperties(undefined)).toBeNull();
    // no user property can pass for the bytes
    const tricky = { userProperties: { cd: 'AAEC', p: '{}' }, correlationData: Buffer.from('x') };
    expect(decodeProperties(encodeProperties(tricky))).toEqual(tricky);
  });

  it('drops expired messages and those of vhosts that are gone when it loads', () => {
    const dir = tempDir();
    const s = new SqliteRetainedStore(dir, log);
    s.put('/', message('old', 'expired', { expiresAt: Date.now() - 1 }), null);
    s.put('/', message('new', 'live', { expiresAt: Date.now() + 60_000 }), null);
    s.put('gone', message('x', 'vhost deleted'), null);
    s.close();
    const again = new SqliteRetainedStore(dir, log, (vhost) => vhost !== 'gone');
    expect(payloads(again, '/', '#')).toEqual(['new=live']);
    expect(again.count('gone')).toBe(0);
    again.close();
    // and they are gone from the file, not just skipped
    const third = new SqliteRetainedStore(dir, log);
    expect(third.count('gone')).toBe(0);
    third.close();
  });
});
