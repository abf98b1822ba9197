/**
 * Headless Chromium (Debian's `chromium`, driven by playwright-core) for the web UI tests: a
 * fresh profile, the page's script errors collected, screenshots kept in
 * tmp/test-artifacts/management-ui/ (gitignored).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const ARTIFACTS = resolve(import.meta.dirname, '..', '..', '..', 'tmp', 'test-artifacts', 'management-ui');

export interface UiBrowser {
  page: Page;
  /** uncaught page errors and console errors, other than the HTTP error responses Chrome logs */
  pageErrors: string[];
  /** a full-page screenshot as ARTIFACTS/<name>.png */
  shot(name: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openBrowser(viewportWidth: number): Promise<UiBrowser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'warren-chromium-'));
  let context: BrowserContext;
  try {
    // a fresh profile directory: Playwright passes it to Chromium as --user-data-dir
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: viewportWidth, height: 900 },
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (msg) => {
    // Chrome logs every HTTP error response; a wrong-password login makes one on purpose
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
  });
  return {
    page,
    pageErrors,
    shot: (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Logs in as guest through the login form and waits for the Overview page. */
export async function logInAsGuest(page: Page, base: string): Promise<void> {
  await page.goto(base);
  await page.locator('#login-form input[name=username]').fill('guest');
  await page.locator('#login-form input[name=password]').fill('guest');
  await page.locator('#login-form button').click();
  await page.locator('h1', { hasText: 'Overview' }).waitFor();
}
