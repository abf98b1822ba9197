/**
 * Live fuzzing of the management HTTP API: arbitrary methods, paths (every route's template
 * with odd parameters, and odd paths), query strings, headers and JSON bodies — valid-ish
 * shapes with wrong types, huge numbers, deep nesting, prototype-pollution keys — plus raw
 * malformed request lines on a socket. Every answer must be well-formed HTTP with a status
 * below 500 (a 500 is a bug), and afterwards the API and an AMQP client still work and no
 * object's prototype was polluted.
 */
import { connect as netConnect } from 'node:net';
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManaged, type ManagedBroker } from '../plugins/management/helpers.js';
import { probeAmqp, withTimeout } from '../helpers/live-probes.js';
import { params } from './fuzz-config.js';

let b: ManagedBroker;
let port: number;
beforeAll(async () => {
  b = await startManaged();
  port = b.broker.address('management').port;
  // the fuzz acts as an administrator of its own, so that it cannot lock guest out by accident
  expect((await b.api('PUT', '/api/users/fuzzer', { password: 'fz', tags: 'administrator' })).status).toBeLessThan(300);
  expect((await b.api('PUT', '/api/vhosts/fz')).status).toBeLessThan(300);
  expect((await b.api('PUT', '/api/permissions/fz/fuzzer', { configure: '.*', write: '.*', read: '.*' })).status).toBeLessThan(300);
});
afterAll(async () => {
  await b?.stop();
});

const ROUTES = 'DELETE /api/connections/:name;DELETE /api/exchanges/:vhost/:name;DELETE /api/queues/:vhost/:name;DELETE /api/queues/:vhost/:name/contents;DELETE /api/vhosts/:vhost;GET /api/aliveness-test/:vhost;GET /api/bindings;GET /api/bindings/:vhost;GET /api/bindings/:vhost/e/:name/q/:name;POST /api/bindings/:vhost/e/:name/q/:name;GET /api/channels;GET /api/cluster-name;GET /api/connections;GET /api/connections/:name;GET /api/consumers;GET /api/definitions;GET /api/exchanges;GET /api/exchanges/:vhost;GET /api/extensions;GET /api/health/checks/alarms;GET /api/health/checks/local-alarms;GET /api/nodes;GET /api/overview;GET /api/permissions;GET /api/policies;GET /api/policies/:vhost;GET /api/queues;GET /api/queues/:vhost;GET /api/queues/:vhost/:name;GET /api/topic-permissions;GET /api/users;GET /api/users/:user;GET /api/vhost-limits;GET /api/vhosts;GET /api/whoami;POST /api/definitions;POST /api/definitions/:vhost;POST /api/exchanges/:vhost/:name/publish;POST /api/queues/:vhost/:name/get;PUT /api/exchanges/:vhost/:name;PUT /api/permissions/:vhost/:user;PUT /api/policies/:vhost/:name;PUT /api/queues/:vhost/:name;PUT /api/topic-permissions/:vhost/:user;PUT /api/users/:user;PUT /api/vhost-limits/:vhost/:name;PUT /api/vhosts/:vhost;GET /metrics;GET /;GET /index.html'
  .split(';')
  .map((r) => r.split(' ') as [string, string]);

/** Parameters: names that exist, odd ones, and arbitrary text, percent-encoded or raw-ish. Never '/' or guest: those keep the probes working. */
const param = fc.oneof(
  fc.constantFrom('fz', 'amq.direct', 'amq.topic', 'q1', '%2Ffz', '..', '%2e%2e', '%00', '%ff', '%', '__proto__', 'constructor', 'prototype', 'x'.repeat(300), '%F0%9F%90%87', 'max-connections', 'max-queues', 'nosuch'),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
).filter((p) => p !== '%2F' && p !== 'guest' && p !== 'fuzzer' && p !== '' );

const path = fc.oneof(
  fc.tuple(fc.constantFrom(...ROUTES), fc.array(param, { minLength: 6, maxLength: 6 })).map(([[m, t], ps]) => ({ method: m, path: t.replace(/:[a-z]+/g, () => ps.shift()!) })),
  fc.tuple(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE'), fc.constantFrom('/api', '/api/', '//api', '/api//queues', '/api/queues/%2F/', '/api/queues//x', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/api/%00', '/metrics/x', '/js/../../package.json')).map(([m, p]) => ({ method: m, path: p })),
);
const method = fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'TRACE')); // unknown methods: Node's parser answers 400 and closes (raw test below)
const query = fc.oneof(
  fc.constant(''),
  fc.dictionary(fc.constantFrom('page', 'page_size', 'name', 'use_regex', 'sort', 'sort_reverse', 'columns', 'lengths_age', 'lengths_incr', 'msg_rates_age', 'history', 'download', 'if-empty', 'if-unused', 'reason', 'disable_stats', '__proto__'), fc.oneof(fc.constantFrom('0', '-1', '1e308', 'NaN', 'true', '(', '.*', '[', '99999999999999999999', ''), fc.string({ maxLength: 10 }))).map((q) => '?' + new URLSearchParams(q).toString()),
);

/** JSON bodies: shapes the API expects, with wrong types, huge numbers, deep nesting, pollution keys. */
const leaf = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 64, Number.MAX_SAFE_INTEGER + 2, -0, 0.5, true, false, null, '', '.*', '(', '\u0000'));
const pollution = fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"arguments":{"__proto__":{"polluted":1}}}', '{"users":[{"name":"x","__proto__":{"polluted":1}}]}', '{"policies":[{"vhost":"fz","name":"p","pattern":".*","definition":{"__proto__":{"polluted":1}}}]}');
const deep = fc.integer({ min: 50, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const expected = fc.record(
  {
    durable: fc.oneof(fc.boolean(), leaf), auto_delete: leaf, arguments: fc.oneof(fc.dictionary(fc.string({ maxLength: 12 }), leaf), leaf), type: fc.oneof(fc.constantFrom('direct', 'topic', 'fanout', 'headers', 'x-delayed-message', 'nosuch'), leaf),
    routing_key: leaf, payload: leaf, payload_encoding: fc.oneof(fc.constantFrom('string', 'base64'), leaf), properties: fc.oneof(fc.dictionary(fc.constantFrom('headers', 'delivery_mode', 'priority', 'expiration', 'timestamp', 'content_type'), leaf), leaf),
    count: leaf, ackmode: fc.oneof(fc.constantFrom('ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true'), leaf), encoding: leaf, truncate: leaf,
    password: leaf, password_hash: leaf, tags: fc.oneof(leaf, fc.array(leaf)), configure: leaf, write: leaf, read: leaf, exchange: leaf,
    pattern: leaf, definition: fc.oneof(fc.dictionary(fc.constantFrom('max-length', 'message-ttl', 'dead-letter-exchange', 'ha-mode', 'x'), leaf), leaf), priority: leaf, 'apply-to': leaf, value: leaf,
    queues: fc.oneof(leaf, fc.array(fc.dictionary(fc.constantFrom('name', 'vhost', 'durable', 'arguments'), leaf))), exchanges: fc.oneof(leaf, fc.array(fc.dictionary(fc.constantFrom('name', 'vhost', 'type'), leaf))), bindings: fc.oneof(leaf, fc.array(fc.dictionary(fc.constantFrom('source', 'destination', 'destination_type', 'vhost'), leaf))), vhosts: leaf, permissions: leaf,
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: expected.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: pollution },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);
const auth = fc.oneof(
  { weight: 6, arbitrary: fc.constant('Basic ' + Buffer.from('fuzzer:fz').toString('base64')) },
  fc.constantFrom(undefined, 'Basic', 'Basic !!!', 'Basic ' + Buffer.from('nouser').toString('base64'), 'Basic ' + Buffer.from(':').toString('base64'), 'Bearer x', 'Basic ' + Buffer.from('fuzzer:wrong').toString('base64'), 'Basic ' + 'A'.repeat(5000)),
);
const contentType = fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x');

interface Answer {
  status: number;
  body: string;
}

function send(m: string, p: string, headers: Record<string, string>, payload: string | undefined): Promise<Answer> {
  return withTimeout(
    new Promise<Answer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: m, path: p, headers: { ...headers, ...(payload !== undefined ? { 'content-length': String(Buffer.byteLength(payload)) } : {}) } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    }),
    15_000,
    `no answer to ${m} ${p}`,
  );
}

describe('management API fuzz', () => {
  it('arbitrary requests: well-formed answers, never a 5xx', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(path, method, query, body, auth, contentType, async (target, m, q, payload, authorization, ct) => {
        const headers: Record<string, string> = {};
        if (authorization !== undefined) headers.authorization = authorization;
        if (ct !== undefined) headers['content-type'] = ct;
        const verb = m ?? target.method;
        const answer = await send(verb, target.path + q, headers, verb === 'GET' || verb === 'HEAD' ? undefined : payload);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 500) throw new Error(`${answer.status} for ${verb} ${target.path + q} body ${payload?.slice(0, 200)}: ${answer.body.slice(0, 300)}`);
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      params('management api requests', 1),
    );
    // the fuzz got through authentication and routing, not only 401s and 404s
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect([...statuses.keys()].some((s) => s === 400)).toBe(true);
    expect((await b.api('GET', '/api/overview')).status).toBe(200);
    expect(await probeAmqp(b.broker.address('amqp').port)).toBeGreaterThan(0);
  }, 120_000);

  it('raw malformed request lines and headers: an HTTP error or a close, never a crash', async () => {
    const line = fc.oneof(
      fc.constantFrom('GET // HTTP/1.1', 'GET //[ HTTP/1.1', 'GET //a:b@ HTTP/1.1', 'GET //:99999/api HTTP/1.1', 'GET http://x/api/overview HTTP/1.1', 'GET * HTTP/1.1', 'GET /api/overview HTTP/9.9', 'GET /api/overview', 'GET /api/%zz HTTP/1.1', '\u0000\u0001', 'GET /' + 'a'.repeat(20000) + ' HTTP/1.1'),
      fc.tuple(fc.constantFrom('GET', 'PUT', 'X'), fc.string({ maxLength: 30 })).map(([m, p]) => `${m} ${p} HTTP/1.1`),
    );
    const header = fc.oneof(fc.constantFrom('Host: x', 'Content-Length: -1', 'Content-Length: 99999999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked\r\nContent-Length: 5', 'Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=', 'X: ' + 'y'.repeat(20000), ': empty name', 'bad header'), fc.string({ maxLength: 30 }));
    await fc.assert(
      fc.asyncProperty(line, fc.array(header, { maxLength: 4 }), fc.string({ maxLength: 40 }), async (l, hs, rest) => {
        const status = await withTimeout(
          new Promise<number>((resolve) => {
            const s = netConnect({ port, host: '127.0.0.1' });
            let text = '';
            s.on('error', () => {});
            s.on('data', (d) => (text += d.toString('latin1')));
            s.on('close', () => resolve(text === '' ? 0 : Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? -1)));
            s.on('connect', () => {
              // a Host header first, or Node's parser refuses every HTTP/1.1 request before the broker sees it
              s.write(`${l}\r\nHost: x\r\n${hs.join('\r\n')}\r\n\r\n${rest}`);
              setTimeout(() => s.end(), 20);
            });
          }),
          15_000,
          `no answer or close for ${JSON.stringify(l.slice(0, 60))}`,
        );
        // 0: closed without an answer (a request never completed); otherwise a parseable status line
        expect(status).not.toBe(-1);
        expect(status).toBeLessThan(500);
      }),
      params('management raw requests', 0.5),
    );
    expect((await b.api('GET', '/api/overview')).status).toBe(200);
  }, 120_000);

  it('regression (found by fuzzing): a request target that is not a URL gets a 400, not an unhandled rejection', async () => {
    for (const target of ['//', '//a:b@', '//x%20y', '//:99999/api']) {
      const text = await withTimeout(
        new Promise<string>((resolve) => {
          const s = netConnect({ port, host: '127.0.0.1' });
          let t = '';
          s.on('error', () => {});
          s.on('data', (d) => {
            t += d.toString('latin1');
            if (t.includes('\r\n\r\n')) s.destroy();
          });
          s.on('close', () => resolve(t));
          s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
        }),
        10_000,
        `no answer for ${target}`,
      );
      expect(text.slice(0, 12)).toBe('HTTP/1.1 400');
    }
  });

  it('regression (found by fuzzing): tags of the wrong type are a 400, not a 500', async () => {
    const res = await b.api('PUT', '/api/vhosts/fz-tags', { tags: 1e308 });
    expect(res.status).toBe(400);
    expect((await b.api('PUT', '/api/users/fz-tags', { password: 'x', tags: { a: 1 } })).status).toBe(400);
  });
});
