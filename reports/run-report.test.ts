import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { Series, Summary } from '../sim/runner/summary.js';
import { browserUnavailable, launchBrowser, openReport, screenshotPath } from '../test/support/browser.js';
import { renderRunReport, runReportSpec } from './run-report.js';

function fixture(): { summary: Summary; series: Series; waits: number[] } {
  const t = Array.from({ length: 50 }, (_, i) => i * 60);
  const summary: Summary = {
    scenario: 'fixture<script>',
    policy: 'arvados',
    seed: 1,
    transport: 'direct',
    simulatedSeconds: 3000,
    wallSeconds: 0.4,
    events: 1234,
    endReason: 'done',
    containers: { total: 10, complete: 9, cancelled: 1, failed: 0, unfinished: 0, lost: 0, doubleStarts: 0, maxLockCount: 1, retried: 1, skipped: 0 },
    wait: { mean: 100, p50: 90, p95: 200, max: 250 },
    cost: { total: 2.5, lowerBound: 1.25, idle: 0.3, booting: 0.2, byInstanceType: { 'm5.large': 2, 'c5.xlarge': 0.5 } },
    instances: { created: 4, destroyed: 4, peak: 3, leakedAtEnd: 0, bootFailures: 0, interrupted: 0 },
    expectations: [{ text: 'wait.p95 <= 900', ok: true, value: 200 }],
    invariantViolations: [],
  };
  const series: Series = {
    t,
    booting: t.map((x) => (x < 300 ? 2 : 0)),
    idle: t.map((x) => (x % 600 === 0 ? 1 : 0)),
    busy: t.map((x) => (x > 300 ? 2 : 0)),
    shutdown: t.map(() => 0),
    queued: t.map((x) => Math.max(0, 10 - x / 60)),
    running: t.map((x) => (x > 300 ? 2 : 0)),
    cost: t.map((x) => x / 1200),
  };
  return { summary, series, waits: [10, 20, 90, 95, 100, 120, 200, 250, 60] };
}

describe('run report', () => {
  it('puts the summary first and escapes text from the scenario', () => {
    const html = renderRunReport(fixture());
    expect(html.indexOf('<h2>Summary</h2>')).toBeLessThan(html.indexOf('id="charts"'));
    expect(html).not.toContain('fixture<script>');
    expect(html).toContain('fixture&#60;script&#62;');
  });

  it('describes four charts with titled axes', () => {
    const spec = runReportSpec(fixture());
    expect(spec.charts.map((c) => c.id)).toEqual(['vms', 'queue', 'cost', 'wait']);
    for (const c of spec.charts) {
      expect(c.xLabel).not.toBe('');
      expect(c.yLabel).not.toBe('');
    }
  });

  describe.skipIf(browserUnavailable())('in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('draws every chart without console errors', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vmd-report-'));
      const file = join(dir, 'report.html');
      writeFileSync(file, renderRunReport(fixture()));
      const { page, errors } = await openReport(browser, file);
      // A string, evaluated in the page: the project's type check has no DOM library.
      const counts = (await page.evaluate(`[...document.querySelectorAll('figure.chart')].map((f) => ({
          id: f.getAttribute('data-chart'),
          series: f.querySelectorAll('.series').length,
          points: [...f.querySelectorAll('.series')].map((s) => Number(s.getAttribute('data-points') ?? s.querySelectorAll('.point').length)),
          bars: f.querySelectorAll('rect.point').length,
        }))`)) as { id: string; series: number; points: number[]; bars: number }[];
      expect(errors).toEqual([]);
      expect(counts.map((c) => c.id)).toEqual(['vms', 'queue', 'cost', 'wait']);
      expect(counts[0]).toMatchObject({ series: 4, points: [50, 50, 50, 50] });
      expect(counts[1]).toMatchObject({ series: 2, points: [50, 50] });
      expect(counts[2]).toMatchObject({ series: 1, points: [50] });
      expect(counts[3]!.bars).toBeGreaterThan(3);
      await page.screenshot({ path: screenshotPath('run-report.png'), fullPage: true });
      await page.close();
    });
  });
});
