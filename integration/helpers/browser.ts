/**
 * A real headless Chromium (Debian's `chromium` package, installed by .ci/run) driven by
 * puppeteer-core. CHROMIUM_PATH overrides where it is. Console errors and page errors are
 * collected so a test can assert there were none.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string | undefined {
  return CANDIDATES.find((p): p is string => !!p && existsSync(p));
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no Chromium found: apt-get install -y chromium (or set CHROMIUM_PATH)');
  return puppeteer.launch({
    executablePath,
    headless: true,
    // root in CI containers: the sandbox needs user namespaces we may not have; /dev/shm may be small.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check'],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
}

export async function openPage(browser: Browser, width = 1280, height = 800): Promise<WatchedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} ${m.location()?.url ?? ''}`.trim());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
  page.on('requestfailed', (r) => {
    // An EventSource closed by page unload or test end is not an error of the page.
    if (!r.url().includes('/v1/events')) errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  return { page, errors };
}
