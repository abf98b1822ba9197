/**
 * What the management UI shows beyond the basics, in headless Chromium (Debian's chromium
 * through playwright-core, as ui.test.ts): the overview's listening ports of every plugin
 * under RabbitMQ's protocol names; the Features badges of queues with DLX, limits, TTL,
 * priority, delivery limit, SAC and a policy; live message rates on the exchanges,
 * channels and connections pages while a real amqplib client publishes. Screenshots in
 * tmp/test-artifacts/management-ui/ (gitignored).
 */
import amqp from 'amqplib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasExecutable } from '../../helpers/require-tool.js';
import { startManaged, type ManagedBroker } from './helpers.js';
import { CHROMIUM, logInAsGuest, openBrowser, type UiBrowser } from './browser.js';

const hasChromium = hasExecutable(CHROMIUM, 'chromium', 'management UI details test');

let m: ManagedBroker;
let ui: UiBrowser;
let page: Page;
let client: amqp.ChannelModel;
let publisher: amqp.ConfirmChannel;
let publishing = true;
let pump: Promise<void> = Promise.resolve();

describe.skipIf(!hasChromium)('management web UI: listeners, features, rates', { timeout: 30_000 }, () => {
  beforeAll(async () => {
    m = await startManaged({
      extra: {
        mqtt: { port: 0, host: '127.0.0.1' },
        stomp: { port: 0, host: '127.0.0.1' },
      },
    });
    ui = await openBrowser(1400);
    page = ui.page;
    await logInAsGuest(page, m.base);
  }, 60_000);

  afterAll(async () => {
    publishing = false;
    await pump.catch(() => undefined);
    await client?.close().catch(() => undefined);
    await ui?.close();
    await m?.stop();
  });

  const shot = (name: string) => ui.shot(name);

  it('overview: the listening ports of every plugin, with RabbitMQ protocol names', async () => {
    const rows = page.locator('#listeners-table tbody tr');
    await rows.first().waitFor();
    const seen = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const expected: [string, string][] = [
      ['amqp', 'amqp'],
      ['mqtt', 'mqtt'],
      ['http/web-mqtt', 'mqtt-ws'],
      ['stomp', 'stomp'],
      ['http/web-stomp', 'stomp-ws'],
      ['http', 'management'],
    ];
    for (const [protocol, listener] of expected) {
      expect(seen).toContainEqual([protocol, '127.0.0.1', String(m.broker.address(listener).port)]);
    }
    expect(seen).toHaveLength(expected.length);
    await shot('10-overview-listeners');
  });

  it('queues: Features shows D, TTL, Exp, Lim, Lim B, DLX, DLK, Pri, DlL, SAC, Excl, Args and the policy', async () => {
    client = await amqp.connect(m.amqpUrl, { clientProperties: { connection_name: 'ui-rates-client' } });
    const ch = await client.createChannel();
    await ch.assertQueue('ui-feat-dlx', { durable: true, arguments: { 'x-dead-letter-exchange': 'amq.fanout', 'x-dead-letter-routing-key': 'dead', 'x-message-ttl': 60_000 } });
    await ch.assertQueue('ui-feat-limits', { durable: false, arguments: { 'x-max-length': 10, 'x-max-length-bytes': 100_000, 'x-expires': 600_000, 'x-overflow': 'reject-publish' } });
    await ch.assertQueue('ui-feat-pri', { durable: true, arguments: { 'x-max-priority': 5, 'x-single-active-consumer': true, 'x-delivery-limit': 3, 'x-custom': 'yes' } });
    await ch.assertQueue('ui-feat-excl', { exclusive: true });
    await ch.assertQueue('ui-feat-plain', { durable: false });
    expect((await m.api('PUT', '/api/policies/%2F/ui-feat-policy', { pattern: '^ui-feat-plain$', definition: { 'max-length': 5 }, 'apply-to': 'queues' })).status).toBeLessThan(300);

    await page.locator('nav a', { hasText: 'Queues' }).click();
    const badges = async (queue: string) => {
      const row = page.locator('#queues-table tr', { has: page.locator('a', { hasText: new RegExp(`^${queue}$`) }) });
      await row.waitFor();
      return row.locator('abbr.feature').allTextContents();
    };
    expect(await badges('ui-feat-dlx')).toEqual(['D', 'TTL', 'DLX', 'DLK']);
    expect(await badges('ui-feat-limits')).toEqual(['Exp', 'Lim', 'Lim B', 'Ovfl']);
    expect(await badges('ui-feat-pri')).toEqual(['D', 'DlL', 'Pri', 'SAC', 'Args']);
    expect(await badges('ui-feat-excl')).toEqual(['Excl', 'D']);
    await expect.poll(() => badges('ui-feat-plain')).toEqual(['ui-feat-policy']);
    // the full argument on hover, as RabbitMQ's title attribute
    const dlx = page.locator('#queues-table tr', { has: page.locator('a', { hasText: /^ui-feat-dlx$/ }) }).locator('abbr', { hasText: 'DLX' });
    expect(await dlx.getAttribute('title')).toBe('x-dead-letter-exchange: amq.fanout');
    await shot('11-queue-features');
  });

  it('exchanges, channels and connections pages show live message and data rates', async () => {
    publisher = await client.createConfirmChannel();
    await publisher.assertExchange('ui-rates-x', 'fanout', { durable: false });
    await publisher.assertQueue('ui-rates-q', { durable: false, arguments: { 'x-max-length': 100 } });
    await publisher.bindQueue('ui-rates-q', 'ui-rates-x', '');
    // a steady trickle, so that every sample sees traffic
    pump = (async () => {
      while (publishing) {
        publisher.publish('ui-rates-x', '', Buffer.alloc(200, 1));
        await publisher.waitForConfirms();
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const positive = /^[1-9][\d,.]*(\.\d)?\/s$|^0\.[1-9]\/s$/;

    await page.locator('nav a', { hasText: 'Exchanges' }).click();
    const row = page.locator('#exchanges-table tr', { has: page.locator('a', { hasText: /^ui-rates-x$/ }) });
    await row.waitFor();
    const cell = (r: typeof row, n: number) => r.locator('td').nth(n).textContent();
    const headers = await page.locator('#exchanges-table thead th').allTextContents();
    const inCol = headers.indexOf('Message rate in');
    const outCol = headers.indexOf('Message rate out');
    expect(inCol).toBeGreaterThan(0);
    await expect.poll(() => cell(row, inCol), { timeout: 15_000 }).toMatch(positive);
    await expect.poll(() => cell(row, outCol), { timeout: 15_000 }).toMatch(positive);
    await row.locator('a').click();
    await expect.poll(() => page.locator('#exchange-publish-in').textContent(), { timeout: 15_000 }).toMatch(/^[1-9][\d,]* \(.+\/s\)$/);
    await shot('12-exchange-rates');

    await page.locator('nav a', { hasText: 'Channels' }).click();
    const chHeaders = page.locator('#channels-table thead th');
    await chHeaders.first().waitFor();
    const publishCol = (await chHeaders.allTextContents()).indexOf('Publish');
    const confirmCol = (await chHeaders.allTextContents()).indexOf('Confirm');
    const rateOf = async (col: number) => {
      const cells = await page.locator('#channels-table tbody tr').evaluateAll((trs, c) => trs.map((tr) => tr.querySelectorAll('td')[c]?.textContent ?? ''), col);
      return cells.find((t) => positive.test(t)) ?? cells.join(' | ');
    };
    await expect.poll(() => rateOf(publishCol), { timeout: 15_000 }).toMatch(positive);
    await expect.poll(() => rateOf(confirmCol), { timeout: 15_000 }).toMatch(positive);
    await shot('13-channel-rates');

    await page.locator('nav a', { hasText: 'Connections' }).click();
    const conn = page.locator('#connections-table tr', { hasText: 'ui-rates-client' });
    await conn.waitFor();
    const connHeaders = await page.locator('#connections-table thead th').allTextContents();
    const fromClient = connHeaders.indexOf('From client');
    const toClient = connHeaders.indexOf('To client');
    const byteRate = /^[1-9][\d.]* (B|KiB|MiB)\/s$|^0\.[1-9] KiB\/s$/;
    await expect.poll(() => cell(conn, fromClient), { timeout: 15_000 }).toMatch(byteRate);
    await expect.poll(() => cell(conn, toClient), { timeout: 15_000 }).toMatch(byteRate);
    await conn.locator('a').click();
    await expect.poll(() => page.locator('#connection-received').textContent(), { timeout: 15_000 }).toMatch(/^[\d.]+ (B|KiB|MiB) in [\d,]+ reads \(.+\/s\)$/);
    await shot('14-connection-rates');
    expect(ui.pageErrors).toEqual([]);
  });
});
