import type { Series, Summary } from '../sim/runner/summary.js';
import type { ChartSpec, ReportSpec } from './chart-spec.js';
import { renderReportHtml } from './html-page.js';

export interface RunReportInput {
  readonly summary: Summary;
  readonly series: Series;
  /** Wait of every started container, seconds. */
  readonly waits: readonly number[];
}

const zip = (t: readonly number[], v: readonly number[]): [number, number][] => t.map((x, i) => [x, v[i] ?? 0]);

/** The spec of `report.html` for one simulation run. */
export function runReportSpec({ summary: s, series, waits }: RunReportInput): ReportSpec {
  const ratio = s.cost.lowerBound > 0 ? s.cost.total / s.cost.lowerBound : NaN;
  const charts: ChartSpec[] = [
    {
      id: 'vms',
      kind: 'stacked-area',
      title: 'VMs by state over time',
      xLabel: 'simulated time',
      yLabel: 'instances',
      xIsTime: true,
      series: [
        { name: 'booting', points: zip(series.t, series.booting) },
        { name: 'idle', points: zip(series.t, series.idle) },
        { name: 'busy', points: zip(series.t, series.busy) },
        { name: 'shutting down', points: zip(series.t, series.shutdown) },
      ],
    },
    {
      id: 'queue',
      kind: 'line',
      title: 'Queue depth and running containers',
      xLabel: 'simulated time',
      yLabel: 'containers',
      xIsTime: true,
      series: [
        { name: 'waiting', points: zip(series.t, series.queued) },
        { name: 'running', points: zip(series.t, series.running) },
      ],
    },
    {
      id: 'cost',
      kind: 'line',
      title: 'Cumulative cost',
      xLabel: 'simulated time',
      yLabel: 'cost (price unit)',
      xIsTime: true,
      series: [{ name: 'cost', points: zip(series.t, series.cost) }],
    },
    {
      id: 'wait',
      kind: 'histogram',
      title: 'Wait from queue to crunch-run start',
      xLabel: 'wait (seconds)',
      yLabel: 'containers',
      bins: 30,
      series: [{ name: 'wait', points: waits.map((w, i) => [i, w] as [number, number]) }],
    },
  ];
  return {
    title: `vmdispatch simulation: ${s.scenario}`,
    subtitle: `policy ${s.policy}, seed ${s.seed}, transport ${s.transport}; ${fmtSeconds(s.simulatedSeconds)} simulated in ${s.wallSeconds.toFixed(1)} s`,
    tables: [
      {
        title: 'Summary',
        columns: ['measure', 'value'],
        rows: [
          ['containers (requests)', s.containers.total],
          ['complete / failed / cancelled / unfinished', `${s.containers.complete} / ${s.containers.failed} / ${s.containers.cancelled} / ${s.containers.unfinished}`],
          ['retried containers', s.containers.retried],
          ['wait p50 / p95 / max (s)', `${r1(s.wait.p50)} / ${r1(s.wait.p95)} / ${r1(s.wait.max)}`],
          ['cost total', s.cost.total],
          ['cost lower bound', s.cost.lowerBound],
          ['cost / lower bound', Number.isFinite(ratio) ? ratio : 'n/a'],
          ['cost idle / booting', `${r2(s.cost.idle)} / ${r2(s.cost.booting)}`],
          ['instances created / peak', `${s.instances.created} / ${s.instances.peak}`],
          ['boot failures / interrupted / leaked', `${s.instances.bootFailures} / ${s.instances.interrupted} / ${s.instances.leakedAtEnd}`],
          ['invariant violations', s.invariantViolations.length],
        ],
      },
      {
        title: 'Cost by instance type',
        columns: ['instance type', 'cost'],
        rows: Object.entries(s.cost.byInstanceType).sort((a, b) => b[1] - a[1]),
      },
      ...(s.expectations.length > 0
        ? [
            {
              title: 'Expectations',
              columns: ['expectation', 'value', 'ok'],
              rows: s.expectations.map((e) => [e.text, e.value === null ? 'n/a' : e.value, e.ok ? 'yes' : 'NO'] as (string | number)[]),
            },
          ]
        : []),
    ],
    charts,
  };
}

export function renderRunReport(input: RunReportInput): string {
  return renderReportHtml(runReportSpec(input));
}

function r1(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}
function r2(v: number): string {
  return v.toFixed(2);
}
function fmtSeconds(s: number): string {
  if (s >= 86400) return `${(s / 86400).toFixed(1)} days`;
  if (s >= 3600) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s)} s`;
}
