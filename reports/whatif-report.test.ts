import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserUnavailable, launchBrowser, openCharts, screenshotPath } from '../test/support/browser.js';
import { fakeSummary } from './report-fixtures.test-support.js';
import { axisNames, gridIndices, paretoFront, renderWhatifReport, whatifCsv, whatifPoint, whatifReportSpec, type VaryAxis, type WhatifResult } from './whatif-report.js';

const AXES: VaryAxis[] = [
  { path: 'cluster.Containers.CloudVMs.MaxInstances', texts: ['40', '10', '20'], numeric: [40, 10, 20], unit: '' },
  { path: 'cloud.bootTime', texts: ['{median: 90s, p95: 4m}', '<b>3m</b>'], numeric: null, unit: '' },
];
const SEEDS = [1, 2];

/** More instances: shorter waits, more cost; the slow boot costs more and waits longer. */
function fixture(): WhatifResult {
  const points = gridIndices(AXES).map((at) => {
    const max = AXES[0]!.numeric![at[0]!]!;
    const slow = at[1] === 1 ? 1 : 0;
    return whatifPoint(
      AXES,
      at,
      SEEDS.map((seed) => ({ seed, summary: fakeSummary({ seed, cost: 10 + max / 5 + slow * 2 + seed / 10, lowerBound: 10, p95: 4000 / max + slow * 100 + seed }) })),
    );
  });
  return { scenario: 'fixture', policy: 'arvados', seeds: SEEDS, axes: AXES, points };
}

describe('whatif report', () => {
  it('runs the cartesian product, first axis slowest', () => {
    expect(gridIndices(AXES)).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]);
    expect(gridIndices([])).toEqual([[]]);
  });

  it('names axes by their last PATH segment unless two clash', () => {
    expect(axisNames(AXES)).toEqual(['MaxInstances', 'bootTime']);
    const clash = [{ ...AXES[0]!, path: 'cluster.InstanceTypes.a.Price' }, { ...AXES[1]!, path: 'cluster.InstanceTypes.b.Price' }];
    expect(axisNames(clash)).toEqual(['cluster.InstanceTypes.a.Price', 'cluster.InstanceTypes.b.Price']);
  });

  it('finds the best trade-offs: the points no other beats on cost and wait', () => {
    const front = paretoFront(fixture().points);
    // Fast boot dominates slow boot at the same size; every size is a trade-off.
    expect(front.map((p) => p.values)).toEqual([
      ['40', '{median: 90s, p95: 4m}'],
      ['20', '{median: 90s, p95: 4m}'],
      ['10', '{median: 90s, p95: 4m}'],
    ]);
  });

  it('writes one CSV row per grid point, quoting values with commas', () => {
    const lines = whatifCsv(fixture()).trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]!.startsWith('point,cluster.Containers.CloudVMs.MaxInstances,cloud.bootTime,cost_median,')).toBe(true);
    expect(lines[1]).toBe('1,40,"{median: 90s, p95: 4m}",18.15,18.1,18.2,1.815,25.375,101.5,101,102,152.25,0,0');
  });

  it('describes the trade-off chart and two charts per varied PATH', () => {
    const spec = whatifReportSpec(fixture());
    expect(spec.charts.map((c) => [c.id, c.kind])).toEqual([
      ['tradeoff', 'scatter'],
      ['cost-by-0', 'line'],
      ['wait-by-0', 'line'],
      ['cost-by-1', 'bar'],
      ['wait-by-1', 'bar'],
    ]);
    // Numeric x, sorted, one line per value of the other axis.
    const cost0 = spec.charts[1]!;
    expect(cost0.series.map((s) => s.name)).toEqual(['bootTime={median: 90s, p95: 4m}', 'bootTime=<b>3m</b>']);
    expect(cost0.series[0]!.points.map((p) => p[0])).toEqual([10, 20, 40]);
    expect(spec.charts[0]!.series[0]!.labels!.slice(0, 2)).toEqual(['#1 40, {median: 90s, p95: 4m}'.slice(0, 25) + '…', '#2 40, <b>3m</b>']);
    expect(renderWhatifReport(fixture())).not.toContain('<b>3m</b>');
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
      const file = join(mkdtempSync(join(tmpdir(), 'vmd-whatif-')), 'whatif.html');
      writeFileSync(file, renderWhatifReport(fixture()));
      const { page, charts } = await openCharts(browser, file);
      expect(charts.map((c) => [c.id, c.kind])).toEqual([
        ['tradeoff', 'scatter'],
        ['cost-by-0', 'line'],
        ['wait-by-0', 'line'],
        ['cost-by-1', 'bar'],
        ['wait-by-1', 'bar'],
      ]);
      for (const c of charts) {
        expect(c.axisLabels).toHaveLength(2);
        for (const l of c.axisLabels) expect(l).not.toBe('');
      }
      // Six labelled configurations, and the three best joined as the curve.
      expect(charts[0]!.series).toEqual([
        { name: 'configurations', points: 6, ranges: 0, joined: false },
        { name: 'best trade-offs', points: 3, ranges: 0, joined: true },
      ]);
      const labels = await page.evaluate(`[...document.querySelectorAll('figure[data-chart=tradeoff] .series text')].length`);
      expect(labels).toBe(6);
      // Per PATH: a line per value of the other PATH over its three values; bars with ranges for categories.
      for (const c of charts.slice(1, 3)) expect(c.series.map((s) => s.points)).toEqual([3, 3]);
      for (const c of charts.slice(3)) expect(c.series.map((s) => [s.points, s.ranges])).toEqual([[2, 2], [2, 2], [2, 2]]);
      expect(charts[1]!.axisLabels[0]).toBe('cluster.Containers.CloudVMs.MaxInstances');
      await page.screenshot({ path: screenshotPath('whatif-report.png'), fullPage: true });
      await page.close();
    });
  });
});
