/**
 * The web UI in headless Chromium (Debian's `chromium`, driven by playwright-core): log in,
 * every page loads, a queue is created, a message published and fetched back, all through
 * the UI; a screenshot of each step is kept in tmp/test-artifacts/management-ui/
 * (gitignored). Needs /usr/bin/chromium (test/helpers/require-tool.ts: skipped with a warning
 * without it, failed in CI).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasExecutable } from '../../helpers/require-tool.js';
import { startManaged, type ManagedBroker } from './helpers.js';
import { ARTIFACTS, CHROMIUM, openBrowser, type UiBrowser } from './browser.js';

const hasChromium = hasExecutable(CHROMIUM, 'chromium', 'management UI test');

let m: ManagedBroker;
let ui: UiBrowser;
let page: Page;

describe.skipIf(!hasChromium)('management web UI in headless Chromium', { timeout: 30_000 }, () => {
  beforeAll(async () => {
    m = await startManaged();
    ui = await openBrowser(1280);
    page = ui.page;
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
    await m?.stop();
  });

  const shot = (name: string) => ui.shot(name);

  it('asks for a login, refuses a wrong password, then shows the overview with live charts', async () => {
    await page.goto(m.base);
    await page.locator('#login-form input[name=username]').fill('guest');
    await page.locator('#login-form input[name=password]').fill('wrong');
    await page.locator('#login-form button').click();
    await expect.poll(() => page.locator('#login-form [role=alert]').textContent()).toBe('Login failed');
    await page.locator('#login-form input[name=username]').fill('guest');
    await page.locator('#login-form input[name=password]').fill('guest');
    await page.locator('#login-form button').click();
    await page.locator('h1', { hasText: 'Overview' }).waitFor();
    await page.locator('#totals .total').first().waitFor();
    expect(await page.locator('canvas.chart').count()).toBe(2);
    expect(await page.locator('#whoami').textContent()).toBe('guest (administrator)');
    expect(await page.locator('#node').textContent()).toMatch(/warren@/);
    await shot('01-overview');
  });

  it('creates a queue through the form', async () => {
    await page.locator('nav a', { hasText: 'Queues' }).click();
    await page.locator('h1', { hasText: 'Queues' }).waitFor();
    await page.locator('#add-queue input[name=name]').fill('ui-orders');
    await page.locator('#add-queue button').click();
    await page.locator('#queues-table a', { hasText: 'ui-orders' }).waitFor();
    expect((await m.api('GET', '/api/queues/%2F/ui-orders')).body).toMatchObject({ durable: true, type: 'classic' });
    await shot('02-queues');
  });

  it('creates a quorum queue through the form; its page shows the leader and the delivery limit', async () => {
    await page.locator('#add-queue input[name=name]').fill('ui-quorum');
    await page.locator('#add-queue select[name=type]').selectOption('quorum');
    await page.locator('#add-queue button').click();
    await page.locator('#queues-table a', { hasText: 'ui-quorum' }).click();
    await page.locator('h1', { hasText: 'Queue ui-quorum' }).waitFor();
    const body = await m.api('GET', '/api/queues/%2F/ui-quorum');
    expect(body.body).toMatchObject({ type: 'quorum', durable: true, delivery_limit: 20 });
    await expect.poll(async () => (await page.locator('main').textContent()) ?? '').toContain('Delivery limit20');
    expect(await page.locator('main').textContent()).toContain(`Leader${(body.body as { node: string }).node}`);
    await page.locator('nav a', { hasText: 'Queues' }).click();
    await page.locator('h1', { hasText: 'Queues' }).waitFor();
  });

  it('publishes a message to the queue and gets it back, all in the UI', async () => {
    await page.locator('#queues-table a', { hasText: 'ui-orders' }).click();
    await page.locator('h1', { hasText: 'Queue ui-orders' }).waitFor();
    await page.locator('#publish-form textarea[name=payload]').fill('hello from the UI');
    await page.locator('#publish-form input[name=headers]').fill('{"source": "browser"}');
    await page.locator('#publish-form button').click();
    await page.locator('#flash .msg', { hasText: 'Message published.' }).waitFor();
    await expect.poll(async () => (await m.api('GET', '/api/queues/%2F/ui-orders')).body.messages).toBe(1);
    await page.locator('#get-form select[name=ackmode]').selectOption('ack_requeue_false');
    await page.locator('#get-form button').click();
    const payload = page.locator('#got-messages pre.payload');
    await payload.waitFor();
    expect(await payload.textContent()).toBe('hello from the UI');
    expect(await page.locator('#got-messages').textContent()).toContain('"headers":{"source":"browser"}');
    await expect.poll(async () => (await m.api('GET', '/api/queues/%2F/ui-orders')).body.messages).toBe(0);
    await expect.poll(() => page.locator('#queue-total').textContent()).toBe('0');
    await shot('03-queue-get');
  });

  it('binds the queue to an exchange from the queue page, and publishes through the exchange page', async () => {
    await page.locator('#bind-form input[name=other]').fill('amq.topic');
    await page.locator('#bind-form input[name=routing_key]').fill('orders.#');
    await page.locator('#bind-form button').click();
    await page.locator('#queue-bindings td', { hasText: 'orders.#' }).waitFor();
    await page.goto(`${m.base}/#/exchanges/${encodeURIComponent('/')}/amq.topic`);
    await page.locator('h1', { hasText: 'Exchange amq.topic' }).waitFor();
    await page.locator('#publish-form input[name=routing_key]').fill('orders.eu');
    await page.locator('#publish-form textarea[name=payload]').fill('via topic');
    await page.locator('#publish-form button').click();
    await page.locator('#flash .msg', { hasText: 'Message published.' }).last().waitFor();
    await expect.poll(async () => (await m.api('GET', '/api/queues/%2F/ui-orders')).body.messages).toBe(1);
    await shot('04-exchange');
  });

  it('lists connections with their protocol, and channels; exchanges and streams pages load', async () => {
    const c = await amqp.connect(m.amqpUrl, { clientProperties: { connection_name: 'ui-test-client' } });
    try {
      await c.createChannel();
      await page.locator('nav a', { hasText: 'Connections' }).click();
      const row = page.locator('#connections-table tr', { hasText: 'ui-test-client' });
      await row.waitFor();
      expect(await row.textContent()).toContain('AMQP 0-9-1');
      await shot('05-connections');
      await row.locator('a').click();
      await page.locator('h1', { hasText: 'Connection ' }).waitFor();
      await page.locator('td', { hasText: 'guest' }).first().waitFor();
      await page.locator('nav a', { hasText: 'Channels' }).click();
      await page.locator('h1', { hasText: 'Channels' }).waitFor();
      await page.locator('td', { hasText: '(' }).first().waitFor();
    } finally {
      await c.close();
    }
    await page.locator('nav a', { hasText: 'Exchanges' }).click();
    await page.locator('#exchanges-table a', { hasText: 'amq.fanout' }).waitFor();
    await page.locator('nav a', { hasText: 'Streams' }).click();
    await page.locator('h1', { hasText: 'Streams' }).waitFor();
    await page.locator('#add-queue input[name=name]').fill('ui-events');
    await page.locator('#add-queue button').click();
    await page.locator('#queues-table a', { hasText: 'ui-events' }).click();
    await page.locator('h1', { hasText: 'Queue ui-events' }).waitFor();
    await page.locator('#queue-details dd', { hasText: 'stream' }).first().waitFor();
    expect((await m.api('GET', '/api/queues/%2F/ui-events')).body.type).toBe('stream');
  });

  it('admin: adds a user, a virtual host and a policy that applies to the queue', async () => {
    await page.locator('nav a', { hasText: 'Admin' }).click();
    await page.locator('#users-table td', { hasText: 'guest' }).waitFor();
    await page.locator('#add-user input[name=name]').fill('ui-user');
    await page.locator('#add-user input[name=password]').fill('ui-pw');
    await page.locator('#add-user button').click();
    await page.locator('#users-table td', { hasText: 'ui-user' }).waitFor();
    await page.locator('.tabs a', { hasText: 'Vhosts' }).click();
    await page.locator('#add-vhost input[name=name]').fill('ui-vhost');
    await page.locator('#add-vhost button').click();
    await page.locator('#vhosts-table td', { hasText: 'ui-vhost' }).waitFor();
    await page.locator('.tabs a', { hasText: 'Policies' }).click();
    await page.locator('#add-policy select[name=vhost]').selectOption('/');
    await page.locator('#add-policy input[name=name]').fill('ui-cap');
    await page.locator('#add-policy input[name=pattern]').fill('^ui-');
    await page.locator('#add-policy input[name=definition]').fill('{"max-length": 10}');
    await page.locator('#add-policy button').click();
    await page.locator('#policies-table td', { hasText: 'ui-cap' }).waitFor();
    expect((await m.api('GET', '/api/queues/%2F/ui-orders')).body.policy).toBe('ui-cap');
    expect((await m.api('GET', '/api/whoami', undefined, 'ui-user:ui-pw')).body.tags).toEqual(['management']);
    await shot('06-admin-policies');
  });

  it('deletes the queue from its page; no script errors on the way', async () => {
    await page.goto(`${m.base}/#/queues/${encodeURIComponent('/')}/ui-orders`);
    await page.locator('#delete-queue').click();
    await page.locator('h1', { hasText: 'Queues' }).waitFor();
    expect((await m.api('GET', '/api/queues/%2F/ui-orders')).status).toBe(404);
    expect(ui.pageErrors).toEqual([]);
    expect(existsSync(join(ARTIFACTS, '01-overview.png'))).toBe(true);
  });
});
