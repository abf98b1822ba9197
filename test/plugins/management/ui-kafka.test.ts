/**
 * The management UI's Kafka tab in headless Chromium (Debian's chromium through playwright-core,
 * as ui-details.test.ts): a kafkajs topic of 3 partitions with its partition streams and
 * offsets, and a consumer group with its member, assigned partitions and lag, live as the
 * group lags behind new records. Screenshots in tmp/test-artifacts/management-ui/ (gitignored).
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasExecutable } from '../../helpers/require-tool.js';
import { startManaged, type ManagedBroker } from './helpers.js';
import { CHROMIUM, logInAsGuest, openBrowser, type UiBrowser } from './browser.js';

const hasChromium = hasExecutable(CHROMIUM, 'chromium', 'management UI Kafka test');

let m: ManagedBroker;
let ui: UiBrowser;
let page: Page;
let consumer: Consumer | undefined;

describe.skipIf(!hasChromium)('management web UI: the Kafka tab', { timeout: 40_000 }, () => {
  beforeAll(async () => {
    m = await startManaged({ extra: { kafka: { port: 0, host: '127.0.0.1', group_initial_rebalance_delay: 100 } } });
    ui = await openBrowser(1400);
    page = ui.page;
    await logInAsGuest(page, m.base);
  }, 60_000);

  afterAll(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await ui?.close();
    await m?.stop();
  });

  const shot = (name: string) => ui.shot(name);

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
    consumer = kafka.consumer({ groupId: 'ui-billing', maxWaitTimeInMs: 500 });
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
    expect(ui.pageErrors).toEqual([]);
  });
});
