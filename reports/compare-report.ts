import type { Summary } from '../sim/runner/summary.js';
import type { ChartSpec, ReportSpec, SeriesSpec } from './chart-spec.js';
import { renderReportHtml } from './html-page.js';
import { costRatio, formatSpread, spread, spreadOf, type Spread } from './spread.js';

/** At most this many instance types get their own bars; the rest add up to "other". */
const MAX_TYPE_BARS = 10;
export const OTHER_TYPES = 'other types';

/** One policy's figures over the seeds (compare.json `byPolicy`). */
export interface PolicyFigures {
  readonly policy: string;
  readonly runs: number;
  readonly cost: {
    readonly total: Spread;
    readonly lowerBound: Spread;
    /** total / lowerBound per run; null when no run had a bound (nothing completed). */
    readonly ratio: Spread | null;
    readonly idle: Spread;
    readonly booting: Spread;
  };
  readonly wait: { readonly mean: Spread; readonly p50: Spread; readonly p95: Spread; readonly max: Spread };
  /** Spot interruptions (instances.interrupted). */
  readonly interruptions: Spread;
  readonly instancesCreated: Spread;
  /** Instance-hours by type (0 for a run that used none of the type). */
  readonly hoursByType: Readonly<Record<string, Spread>>;
  /** Over all its runs. */
  readonly invariantViolations: number;
  readonly failedExpectations: number;
}

/** compare.json: every run's summary, and per policy the spread of each figure. */
export interface CompareResult {
  readonly scenario: string;
  readonly seeds: readonly number[];
  readonly policies: readonly string[];
  readonly runs: readonly { readonly policy: string; readonly seed: number; readonly summary: Summary }[];
  readonly byPolicy: readonly PolicyFigures[];
}

/** Aggregate the runs of a comparison; `policies` and `seeds` give the order. */
export function aggregateCompare(scenario: string, policies: readonly string[], seeds: readonly number[], runs: CompareResult['runs']): CompareResult {
  const byPolicy = policies.map((policy): PolicyFigures => {
    const sums = runs.filter((r) => r.policy === policy).map((r) => r.summary);
    const of = (f: (s: Summary) => number): Spread => spreadOf(sums.map(f));
    const types = [...new Set(sums.flatMap((s) => Object.keys(s.instances.hoursByType ?? {})))].sort();
    return {
      policy,
      runs: sums.length,
      cost: {
        total: of((s) => s.cost.total),
        lowerBound: of((s) => s.cost.lowerBound),
        ratio: spread(sums.map((s) => costRatio(s.cost.total, s.cost.lowerBound))),
        idle: of((s) => s.cost.idle),
        booting: of((s) => s.cost.booting),
      },
      wait: { mean: of((s) => s.wait.mean), p50: of((s) => s.wait.p50), p95: of((s) => s.wait.p95), max: of((s) => s.wait.max) },
      interruptions: of((s) => s.instances.interrupted),
      instancesCreated: of((s) => s.instances.created),
      hoursByType: Object.fromEntries(types.map((t) => [t, of((s) => s.instances.hoursByType?.[t] ?? 0)])),
      invariantViolations: sums.reduce((n, s) => n + s.invariantViolations.length, 0),
      failedExpectations: sums.reduce((n, s) => n + s.expectations.filter((e) => !e.ok).length, 0),
    };
  });
  return { scenario, seeds, policies, runs, byPolicy };
}

/** The instance types to chart, most hours first, at most MAX_TYPE_BARS (then "other types"). */
export function chartedTypes(byPolicy: readonly PolicyFigures[]): string[] {
  const total = new Map<string, number>();
  for (const p of byPolicy) for (const [t, s] of Object.entries(p.hoursByType)) total.set(t, (total.get(t) ?? 0) + s.median);
  const sorted = [...total.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t]) => t);
  return sorted.length <= MAX_TYPE_BARS ? sorted : [...sorted.slice(0, MAX_TYPE_BARS - 1), OTHER_TYPES];
}

/** A bar per policy: the median, with the min–max range over seeds. */
function barByPolicy(r: CompareResult, id: string, title: string, yLabel: string, pick: (p: PolicyFigures) => Spread | null): ChartSpec {
  const points: [number, number][] = [];
  const ranges: [number, number][] = [];
  r.byPolicy.forEach((p, i) => {
    const s = pick(p);
    if (s === null) return;
    points.push([i, s.median]);
    ranges.push([s.min, s.max]);
  });
  return { id, kind: 'bar', title, xLabel: 'policy', yLabel, categories: r.policies, series: [{ name: `median of ${r.seeds.length} seeds`, points, ranges }] };
}

function hoursChart(r: CompareResult): ChartSpec {
  const types = chartedTypes(r.byPolicy);
  const named = new Set(types.filter((t) => t !== OTHER_TYPES));
  const series: SeriesSpec[] = r.byPolicy.map((p) => {
    const points: [number, number][] = [];
    const ranges: [number, number][] = [];
    types.forEach((t, i) => {
      if (t === OTHER_TYPES) {
        // "Other" per run, so its range is over seeds like the others'.
        const perRun = r.runs
          .filter((run) => run.policy === p.policy)
          .map((run) => Object.entries(run.summary.instances.hoursByType ?? {}).reduce((n, [k, h]) => (named.has(k) ? n : n + h), 0));
        const s = spreadOf(perRun);
        points.push([i, s.median]);
        ranges.push([s.min, s.max]);
        return;
      }
      const s = p.hoursByType[t] ?? { median: 0, min: 0, max: 0 };
      points.push([i, s.median]);
      ranges.push([s.min, s.max]);
    });
    return { name: p.policy, points, ranges };
  });
  return {
    id: 'hours-by-type',
    kind: 'bar',
    title: 'Instance-hours by instance type (median per policy; line: min–max over seeds)',
    xLabel: 'instance type',
    yLabel: 'instance-hours',
    categories: types,
    series,
  };
}

/** The spec of compare.html. */
export function compareReportSpec(r: CompareResult): ReportSpec {
  const n = r.seeds.length;
  const seedText = n === 1 ? `seed ${r.seeds[0]}` : `seeds ${r.seeds[0]}–${r.seeds[n - 1]}`;
  const charts: ChartSpec[] = [
    barByPolicy(r, 'cost-ratio', 'Cost relative to the lower bound, by policy (1 = no scheduler could do better)', 'cost ÷ lower bound', (p) => p.cost.ratio),
    barByPolicy(r, 'wait-p95', '95th percentile wait from queue to start, by policy', 'wait p95 (seconds)', (p) => p.wait.p95),
    hoursChart(r),
    {
      id: 'cost-vs-wait',
      kind: 'scatter',
      title: 'Cost against wait p95: one point per seed',
      yZero: false,
      xLabel: 'wait p95 (seconds)',
      yLabel: 'total cost (price unit)',
      series: r.policies.map((policy) => {
        const runs = r.runs.filter((x) => x.policy === policy);
        return {
          name: policy,
          points: runs.map((x) => [x.summary.wait.p95, x.summary.cost.total] as [number, number]),
          labels: runs.map((x) => `seed ${x.seed}`),
          connect: false,
        };
      }),
    },
  ];
  const types = [...new Set(r.byPolicy.flatMap((p) => Object.keys(p.hoursByType)))].sort();
  return {
    title: `vmdispatch comparison: ${r.scenario}`,
    subtitle: `${r.policies.length} policies on the same workloads, ${seedText}; figures are medians over the seeds, with (min–max) where the seeds disagree. Money in the price unit of the config (per hour prices), times in seconds.`,
    tables: [
      {
        title: 'Summary by policy',
        columns: ['policy', 'cost', 'cost ÷ lower bound', 'idle cost', 'booting cost', 'wait p50 (s)', 'wait p95 (s)', 'wait max (s)', 'interruptions', 'invariant violations'],
        rows: r.byPolicy.map((p) => [
          p.policy,
          formatSpread(p.cost.total),
          formatSpread(p.cost.ratio),
          formatSpread(p.cost.idle),
          formatSpread(p.cost.booting),
          formatSpread(p.wait.p50, 1),
          formatSpread(p.wait.p95, 1),
          formatSpread(p.wait.max, 1),
          formatSpread(p.interruptions, 0),
          p.invariantViolations,
        ]),
      },
      {
        title: 'Instance-hours by instance type (median over seeds)',
        columns: ['instance type', ...r.policies],
        rows: types.map((t) => [t, ...r.byPolicy.map((p) => formatSpread(p.hoursByType[t] ?? { median: 0, min: 0, max: 0 }))]),
      },
    ],
    notes: [
      `Lower bound: each finished container's runtime at the price of the cheapest instance type that fits it, with no boot or idle time: it depends on the workload, not the policy, when every container completes.`,
      `Per-container rows of every run: <policy>-seed<k>/containers.csv beside this page; every figure in compare.json.`,
      ...r.byPolicy.filter((p) => p.failedExpectations > 0).map((p) => `${p.policy}: ${p.failedExpectations} failed expectation(s) of the scenario over its runs (see compare.json).`),
    ],
    charts,
  };
}

export function renderCompareReport(r: CompareResult): string {
  return renderReportHtml(compareReportSpec(r));
}
