import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserUnavailable, launchBrowser, openCharts, screenshotPath } from '../test/support/browser.js';
import { aggregateCompare, chartedTypes, compareReportSpec, OTHER_TYPES, renderCompareReport, type CompareResult } from './compare-report.js';
import { fakeSummary } from './report-fixtures.test-support.js';

const POLICIES = ['arvados', 'cheapest<b>', 'fast'];
const SEEDS = [1, 2, 3];

function fixture(): CompareResult {
  const runs = POLICIES.flatMap((policy, pi) =>
    SEEDS.map((seed) => ({
      policy,
      seed,
      summary: fakeSummary({ policy, seed, cost: 10 + pi * 3 + seed, lowerBound: 8, p95: 300 - pi * 80 + seed * 10, hours: { small: 20 + pi + seed, large: 5 * pi + seed, ...(pi === 2 ? { gpu: 1 } : {}) }, interrupted: seed - 1 }),
    })),
  );
  return aggregateCompare('fixture', POLICIES, SEEDS, runs);
}

describe('compare report', () => {
  it('aggregates medians and ranges over seeds, per policy', () => {
    const r = fixture();
    expect(r.byPolicy.map((p) => p.policy)).toEqual(POLICIES);
    const a = r.byPolicy[0]!;
    expect(a.cost.total).toEqual({ median: 12, min: 11, max: 13 });
    expect(a.cost.ratio).toEqual({ median: 1.5, min: 11 / 8, max: 13 / 8 });
    expect(a.wait.p95).toEqual({ median: 320, min: 310, max: 330 });
    expect(a.interruptions).toEqual({ median: 1, min: 0, max: 2 });
    expect(a.hoursByType).toEqual({ large: { median: 2, min: 1, max: 3 }, small: { median: 22, min: 21, max: 23 } });
    // A type a policy never used counts 0 hours for it.
    expect(r.byPolicy[2]!.hoursByType.gpu).toEqual({ median: 1, min: 1, max: 1 });
    expect(r.byPolicy[0]!.hoursByType.gpu).toBeUndefined();
  });

  it('has no ratio when nothing completed', () => {
    const r = aggregateCompare('x', ['arvados'], [1], [{ policy: 'arvados', seed: 1, summary: fakeSummary({ cost: 3, lowerBound: 0, p95: 0 }) }]);
    expect(r.byPolicy[0]!.cost.ratio).toBeNull();
    expect(compareReportSpec(r).charts[0]!.series[0]!.points).toEqual([]);
  });

  it('charts the ten types with most hours, the rest as other types', () => {
    const hours = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`t${String(i).padStart(2, '0')}`, i + 1]));
    const r = aggregateCompare('x', ['arvados'], [1], [{ policy: 'arvados', seed: 1, summary: fakeSummary({ cost: 3, p95: 1, hours }) }]);
    const types = chartedTypes(r.byPolicy);
    expect(types).toHaveLength(10);
    expect(types[0]).toBe('t13');
    expect(types[9]).toBe(OTHER_TYPES);
    const chart = compareReportSpec(r).charts.find((c) => c.id === 'hours-by-type')!;
    // t00..t04 (1+2+3+4+5 hours) add up to "other types".
    expect(chart.series[0]!.points[9]).toEqual([9, 15]);
  });

  it('puts the summary table first and escapes names', () => {
    const html = renderCompareReport(fixture());
    expect(html.indexOf('<h2>Summary by policy</h2>')).toBeLessThan(html.indexOf('id="charts"'));
    expect(html).not.toContain('cheapest<b>');
    const spec = compareReportSpec(fixture());
    expect(spec.tables[0]!.rows[0]).toEqual(['arvados', '12 (11–13)', '1.50 (1.38–1.63)', '1.20 (1.10–1.30)', '0.60 (0.55–0.65)', '80 (77.5–82.5)', '320 (310–330)', '480 (465–495)', '1 (0–2)', 0]);
  });

  describe.skipIf(browserUnavailable())('in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('draws every chart, with the expected series and points, without console errors', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'vmd-compare-')), 'compare.html');
      writeFileSync(file, renderCompareReport(fixture()));
      const { page, charts } = await openCharts(browser, file);
      expect(charts.map((c) => [c.id, c.kind])).toEqual([
        ['cost-ratio', 'bar'],
        ['wait-p95', 'bar'],
        ['hours-by-type', 'bar'],
        ['cost-vs-wait', 'scatter'],
      ]);
      for (const c of charts) {
        expect(c.axisLabels).toHaveLength(2);
        for (const l of c.axisLabels) expect(l).not.toBe('');
      }
      // One bar per policy, each with its min–max line.
      expect(charts[0]!.series).toEqual([{ name: 'median of 3 seeds', points: 3, ranges: 3, joined: false }]);
      expect(charts[1]!.series).toEqual([{ name: 'median of 3 seeds', points: 3, ranges: 3, joined: false }]);
      // One series per policy, a bar per instance type.
      expect(charts[2]!.series.map((s) => [s.name, s.points])).toEqual(POLICIES.map((p) => [p, 3]));
      expect(charts[2]!.legend).toEqual(POLICIES);
      // One series per policy, a dot per seed, not joined.
      expect(charts[3]!.series).toEqual(POLICIES.map((name) => ({ name, points: 3, ranges: 0, joined: false })));
      const firstTable = await page.evaluate(`document.querySelector('h2').textContent`);
      expect(firstTable).toBe('Summary by policy');
      await page.screenshot({ path: screenshotPath('compare-report.png'), fullPage: true });
      await page.close();
    });
  });
});
