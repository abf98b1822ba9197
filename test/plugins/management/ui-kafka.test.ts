/**
 * The management UI's Kafka tab in headless Chromium (Debian's chromium through playwright-core,
 * as ui-details.test.ts): a kafkajs topic of 3 partitions with its partition streams and
 * offsets, and a consumer group with its member, assigned partitions and lag, live as the
 * group lags behind new records. Screenshots in tmp/test-artifacts/management-ui/ (gitignored).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasExecutable } from '../../helpers/require-tool.js';
import { startManaged, type ManagedBroker } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = hasExecutable(CHROMIUM, 'chromium', 'management UI Kafka test');

const ARTIFACTS = resolve(import.meta.dirname, '..', '..', '..', 'tmp', 'test-artifacts', 'management-ui');

let m: ManagedBroker;
let context: BrowserContext;
let page: Page;
let profile: string;
let consumer: Consumer | undefined;
const pageErrors: string[] = [];

describe.skipIf(!hasChromium)('management web UI: the Kafka tab', { timeout: 40_000 }, () => {
  beforeAll(async () => {
    m = await startManaged({ extra: { kafka: { port: 0, host: '127.0.0.1', group_initial_rebalance_delay: 100 } } });
    mkdirSync(ARTIFACTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'warren-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
    });
    await page.goto(m.base);
    await page.locator('#login-form input[name=username]').fill('guest');
    await page.locator('#login-form input[name=password]').fill('guest');
    await page.locator('#login-form button').click();
    await page.locator('h1', { hasText: 'Overview' }).waitFor();
  }, 60_000);

  afterAll(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await context?.close();
    await m?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('lists the topic with its partition streams, the group with its member and lag', async () => {
    const kafka = new Kafka({ clientId: 'ui-kafka-client', brokers: [`127.0.0.1:${m.broker.address('kafka').port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'ui-orders', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'ui-orders', messages: Array.from({ length: 6 }, (_v, i) => ({ value: `o${i}`, partition: i % 3 })) });
    let received = 0;
    consumer = kafka.consumer({ groupId: 'ui-billing' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'ui-orders', fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        received++;
      },
    });
    await expect.poll(() => received, { timeout: 20_000 }).toBe(6);

    await page.locator('nav a', { hasText: 'Kafka' }).click();
    await page.locator('h1', { hasText: 'Kafka' }).waitFor();
    const rows = page.locator('#kafka-topics-table tbody tr');
    await rows.first().waitFor();
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(cells).toEqual([0, 1, 2].map((p) => [p === 0 ? 'ui-orders' : '', String(p), `ui-orders-${p}`, '2', '0', '1']));
    expect(await page.locator('#kafka-topics-table a', { hasText: 'ui-orders-1' }).getAttribute('href')).toBe('#/queues/%2F/ui-orders-1');

    const panel = page.locator('.kafka-group[data-group="ui-billing"]');
    // the page refreshes every few seconds: the group settles and commits meanwhile
    await expect.poll(() => panel.locator('h3').textContent(), { timeout: 20_000 }).toMatch(/^ui-billing Stable generation \d+ · consumer\/RoundRobinAssigner · lag 0$/);
    const member = await panel.locator('.kafka-members tbody td').allTextContents();
    expect(member[1]).toBe('ui-kafka-client');
    expect(member[3]).toBe('ui-orders [0, 1, 2]');
    await expect.poll(() => panel.locator('.kafka-offsets tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))).toEqual(
      [0, 1, 2].map((p) => ['ui-orders', String(p), '2', '0']),
    );
    await shot('30-kafka-tab');

    consumer.pause([{ topic: 'ui-orders' }]);
    await producer.send({ topic: 'ui-orders', messages: [{ value: 'late', partition: 2 }] });
    await producer.disconnect();
    await expect.poll(() => panel.locator('h3').textContent(), { timeout: 15_000 }).toMatch(/· lag 1$/);
    expect(pageErrors).toEqual([]);
  });
});
