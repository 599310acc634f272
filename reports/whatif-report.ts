import type { Summary } from '../sim/runner/summary.js';
import type { ChartSpec, ReportSpec, SeriesSpec } from './chart-spec.js';
import { renderReportHtml } from './html-page.js';
import { costRatio, formatSpread, spread, spreadOf, type Spread } from './spread.js';

/** One `--vary PATH=v1,v2,...`. */
export interface VaryAxis {
  readonly path: string;
  /** The values as written (YAML text). */
  readonly texts: readonly string[];
  /** The values as numbers for charts (durations in seconds), or null when some are not numbers. */
  readonly numeric: readonly number[] | null;
  /** Unit of the numeric values ('seconds' for durations, '' for plain numbers). */
  readonly unit: string;
}

/** One point of the grid: a value per axis, run with every seed. */
export interface WhatifPoint {
  /** Index into each axis' values, in axis order. */
  readonly at: readonly number[];
  /** The values as written, in axis order. */
  readonly values: readonly string[];
  readonly cost: Spread;
  readonly ratio: Spread | null;
  readonly waitP50: Spread;
  readonly waitP95: Spread;
  readonly waitMax: Spread;
  readonly interruptions: Spread;
  readonly invariantViolations: number;
  readonly failedExpectations: number;
  readonly runs: readonly { readonly seed: number; readonly summary: Summary }[];
}

/** whatif.json. */
export interface WhatifResult {
  readonly scenario: string;
  readonly policy: string;
  readonly seeds: readonly number[];
  readonly axes: readonly VaryAxis[];
  readonly points: readonly WhatifPoint[];
}

/** Every combination of the axes' value indices, the first axis varying slowest. */
export function gridIndices(axes: readonly { readonly texts: readonly string[] }[]): number[][] {
  let grid: number[][] = [[]];
  for (const a of axes) grid = grid.flatMap((g) => a.texts.map((_, i) => [...g, i]));
  return grid;
}

/** A grid point's figures from its runs. */
export function whatifPoint(axes: readonly VaryAxis[], at: readonly number[], runs: WhatifPoint['runs']): WhatifPoint {
  const sums = runs.map((r) => r.summary);
  const of = (f: (s: Summary) => number): Spread => spreadOf(sums.map(f));
  return {
    at,
    values: at.map((vi, ai) => axes[ai]!.texts[vi]!),
    cost: of((s) => s.cost.total),
    ratio: spread(sums.map((s) => costRatio(s.cost.total, s.cost.lowerBound))),
    waitP50: of((s) => s.wait.p50),
    waitP95: of((s) => s.wait.p95),
    waitMax: of((s) => s.wait.max),
    interruptions: of((s) => s.instances.interrupted),
    invariantViolations: sums.reduce((n, s) => n + s.invariantViolations.length, 0),
    failedExpectations: sums.reduce((n, s) => n + s.expectations.filter((e) => !e.ok).length, 0),
    runs,
  };
}

/** Names for the axes in labels: the last PATH segment, or the whole PATH where two would clash. */
export function axisNames(axes: readonly VaryAxis[]): string[] {
  const last = axes.map((a) => a.path.split('.').pop() ?? a.path);
  return last.map((n, i) => (last.filter((m) => m === n).length > 1 ? axes[i]!.path : n));
}

/** The points no other point beats on both cost and wait p95, by increasing wait. */
export function paretoFront(points: readonly WhatifPoint[]): WhatifPoint[] {
  const front = points.filter(
    (p) =>
      !points.some(
        (q) =>
          q.cost.median <= p.cost.median &&
          q.waitP95.median <= p.waitP95.median &&
          (q.cost.median < p.cost.median || q.waitP95.median < p.waitP95.median),
      ),
  );
  return front.sort((a, b) => a.waitP95.median - b.waitP95.median || a.cost.median - b.cost.median);
}

/** whatif.csv: one row per grid point. */
export function whatifCsv(r: WhatifResult): string {
  const head = [
    'point',
    ...r.axes.map((a) => a.path),
    'cost_median',
    'cost_min',
    'cost_max',
    'cost_ratio_median',
    'wait_p50_median',
    'wait_p95_median',
    'wait_p95_min',
    'wait_p95_max',
    'wait_max_median',
    'interruptions_median',
    'invariant_violations',
  ];
  const lines = [head.map(csvCell).join(',')];
  for (const p of r.points) {
    const nums = [p.cost.median, p.cost.min, p.cost.max, p.ratio?.median ?? null, p.waitP50.median, p.waitP95.median, p.waitP95.min, p.waitP95.max, p.waitMax.median, p.interruptions.median, p.invariantViolations];
    lines.push([String(r.points.indexOf(p) + 1), ...p.values.map(csvCell), ...nums.map((v) => (v === null ? '' : String(v)))].join(','));
  }
  return lines.join('\n') + '\n';
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** "#3 10, 90s": the row of the table, then the values, cut short: points sit close together. */
function pointLabel(r: WhatifResult, p: WhatifPoint): string {
  const text = `#${r.points.indexOf(p) + 1} ${p.values.join(', ')}`;
  return text.length > 26 ? `${text.slice(0, 25)}…` : text;
}

function tradeoffChart(r: WhatifResult): ChartSpec {
  const front = paretoFront(r.points);
  return {
    id: 'tradeoff',
    kind: 'scatter',
    title: `Cost against waiting time: one point per configuration (# as in the table; median of ${r.seeds.length} seeds)`,
    yZero: false,
    xLabel: 'wait p95 (seconds)',
    yLabel: 'total cost (price unit)',
    series: [
      {
        name: 'configurations',
        points: r.points.map((p) => [p.waitP95.median, p.cost.median] as [number, number]),
        labels: r.points.map((p) => pointLabel(r, p)),
        connect: false,
      },
      { name: 'best trade-offs', points: front.map((p) => [p.waitP95.median, p.cost.median] as [number, number]) },
    ],
  };
}

/**
 * One chart of a figure against one axis: x = the axis value (a line when the values are
 * numbers, else bars), one series per combination of the other axes' values.
 */
function axisChart(r: WhatifResult, names: readonly string[], ai: number, figure: 'cost' | 'wait'): ChartSpec {
  const axis = r.axes[ai]!;
  const groups = new Map<string, WhatifPoint[]>();
  for (const p of r.points) {
    const key = p.values.filter((_, i) => i !== ai).map((v, j) => `${names.filter((_, i) => i !== ai)[j]}=${v}`).join(', ');
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const pick = (p: WhatifPoint): Spread => (figure === 'cost' ? p.cost : p.waitP95);
  const series: SeriesSpec[] = [...groups.entries()].map(([key, pts]) => {
    const sorted = [...pts].sort((a, b) => a.at[ai]! - b.at[ai]!);
    const x = (p: WhatifPoint): number => (axis.numeric !== null ? axis.numeric[p.at[ai]!]! : p.at[ai]!);
    const points = sorted.map((p) => [x(p), pick(p).median] as [number, number]).sort((a, b) => a[0] - b[0]);
    const name = key === '' ? `median of ${r.seeds.length} seeds` : key;
    return axis.numeric !== null ? { name, points } : { name, points, ranges: sorted.map((p) => [pick(p).min, pick(p).max] as [number, number]) };
  });
  const what = figure === 'cost' ? 'Total cost' : 'Wait p95';
  return {
    id: `${figure}-by-${ai}`,
    kind: axis.numeric !== null ? 'line' : 'bar',
    title: `${what} against ${axis.path}`,
    xLabel: axis.unit !== '' ? `${axis.path} (${axis.unit})` : axis.path,
    yLabel: figure === 'cost' ? 'total cost (price unit)' : 'wait p95 (seconds)',
    series,
    ...(axis.numeric === null ? { categories: axis.texts } : { yZero: false }),
  };
}

/** The spec of whatif.html. */
export function whatifReportSpec(r: WhatifResult): ReportSpec {
  const names = axisNames(r.axes);
  const n = r.seeds.length;
  const seedText = n === 1 ? `seed ${r.seeds[0]}` : `seeds ${r.seeds[0]}–${r.seeds[n - 1]}`;
  const front = new Set(paretoFront(r.points));
  return {
    title: `vmdispatch what-if: ${r.scenario}`,
    subtitle: `${r.points.length} configurations (${r.axes.map((a) => `${a.path}: ${a.texts.length} values`).join('; ')}), policy ${r.policy}, ${seedText}. Figures are medians over the seeds, with (min–max) where the seeds disagree. Money in the price unit of the config, times in seconds.`,
    tables: [
      {
        title: 'Configurations',
        columns: ['#', ...r.axes.map((a) => a.path), 'cost', 'cost ÷ lower bound', 'wait p50 (s)', 'wait p95 (s)', 'interruptions', 'invariant violations', 'best trade-off'],
        rows: r.points.map((p, i) => [
          i + 1,
          ...p.values,
          formatSpread(p.cost),
          formatSpread(p.ratio),
          formatSpread(p.waitP50, 1),
          formatSpread(p.waitP95, 1),
          formatSpread(p.interruptions, 0),
          p.invariantViolations,
          front.has(p) ? 'yes' : '',
        ]),
      },
    ],
    notes: [
      'Best trade-off: no other configuration has both a lower (or equal) median cost and a lower (or equal) median wait p95.',
      'Every figure is in whatif.json, one row per configuration in whatif.csv, and the per-container rows of each run in point<i>-seed<k>/containers.csv beside this page.',
    ],
    charts: [tradeoffChart(r), ...r.axes.flatMap((_, ai) => [axisChart(r, names, ai, 'cost'), axisChart(r, names, ai, 'wait')])],
  };
}

export function renderWhatifReport(r: WhatifResult): string {
  return renderReportHtml(whatifReportSpec(r));
}
