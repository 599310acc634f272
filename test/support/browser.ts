import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { DRAWN_CHARTS, type DrawnChart } from '../../reports/report-fixtures.test-support.js';

export const CHROMIUM = '/usr/bin/chromium';
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Whether a browser test may skip: only off CI, when Debian's chromium is absent. */
export function browserUnavailable(): boolean {
  return !existsSync(CHROMIUM) && process.env.CI === undefined;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface OpenedPage {
  readonly page: Page;
  /** Console errors and uncaught page errors seen while loading. */
  readonly errors: string[];
}

/** Open a local HTML file and collect console errors. Network requests are refused. */
export async function openReport(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) =>
    route.request().url().startsWith('file:') ? route.continue() : route.abort(),
  );
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('#charts figure');
  return { page, errors };
}

/**
 * Open a compare or what-if report and read back the charts it drew (see DRAWN_CHARTS),
 * asserting that loading it logged no console error.
 */
export async function openCharts(browser: Browser, file: string): Promise<{ readonly page: Page; readonly charts: DrawnChart[] }> {
  const { page, errors } = await openReport(browser, file);
  const charts = (await page.evaluate(DRAWN_CHARTS)) as DrawnChart[];
  expect(errors).toEqual([]);
  return { page, charts };
}

/** Screenshots of reports go to test-output/ (ignored by git) for people to look at. */
export function screenshotPath(name: string): string {
  const dir = join(repoRoot, 'test-output');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
