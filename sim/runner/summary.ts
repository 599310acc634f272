import type { ExpectationResult } from '../scenario/expectations.js';

/** One breach of an always-on invariant. */
export interface InvariantViolation {
  readonly invariant: string;
  /** Simulated seconds from the start. */
  readonly at: number;
  readonly detail: string;
}

/**
 * `summary.json`, as fixed by CONTRACTS.md section 3: times in seconds, money in the
 * config's price unit. Fields beyond the contract are additions, never renames.
 */
export interface Summary {
  readonly scenario: string;
  readonly policy: string;
  readonly seed: number;
  readonly transport: 'direct' | 'ssh';
  readonly simulatedSeconds: number;
  readonly wallSeconds: number;
  readonly events: number;
  /** Why the run ended: the workload finished and the cloud emptied, or the horizon. */
  readonly endReason: 'done' | 'horizon';
  readonly containers: {
    readonly total: number;
    readonly complete: number;
    readonly cancelled: number;
    readonly failed: number;
    readonly unfinished: number;
    readonly lost: number;
    readonly doubleStarts: number;
    readonly maxLockCount: number;
    readonly retried: number;
    /** Workload jobs skipped while importing traces (no run time, ...). */
    readonly skipped: number;
  };
  readonly wait: { readonly mean: number; readonly p50: number; readonly p95: number; readonly max: number };
  readonly cost: {
    readonly total: number;
    readonly lowerBound: number;
    readonly idle: number;
    readonly booting: number;
    readonly byInstanceType: Readonly<Record<string, number>>;
  };
  readonly instances: {
    readonly created: number;
    readonly destroyed: number;
    readonly peak: number;
    readonly leakedAtEnd: number;
    readonly bootFailures: number;
    readonly interrupted: number;
    /** Instance-hours billed per instance type (an addition to the contract). */
    readonly hoursByType?: Readonly<Record<string, number>>;
  };
  readonly expectations: readonly ExpectationResult[];
  readonly invariantViolations: readonly InvariantViolation[];
}

/** One row of containers.csv (times in simulated seconds; null = empty cell). */
export interface ContainerRow {
  readonly uuid: string;
  readonly request: string;
  readonly priority: bigint;
  readonly submitted: number;
  readonly started: number | null;
  readonly finished: number | null;
  readonly state: string;
  readonly exitCode: number | null;
  readonly instanceType: string | null;
  readonly instanceId: string | null;
  readonly wait: number | null;
  readonly cost: number | null;
}

export const CONTAINER_CSV_COLUMNS = [
  'uuid',
  'request',
  'priority',
  'submitted',
  'started',
  'finished',
  'state',
  'exit_code',
  'instance_type',
  'instance_id',
  'wait',
  'cost',
] as const;

export function containersCsv(rows: readonly ContainerRow[]): string {
  const out = [CONTAINER_CSV_COLUMNS.join(',')];
  for (const r of rows) {
    out.push(
      [
        r.uuid,
        r.request,
        r.priority.toString(),
        num(r.submitted),
        num(r.started),
        num(r.finished),
        r.state,
        num(r.exitCode),
        csvText(r.instanceType),
        csvText(r.instanceId),
        num(r.wait),
        num(r.cost),
      ].join(','),
    );
  }
  return out.join('\n') + '\n';
}

function num(v: number | null): string {
  if (v === null) return '';
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
}

function csvText(v: string | null): string {
  if (v === null) return '';
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Percentile by nearest rank over a sorted copy; 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Time series sampled during the run, for report.html. */
export interface Series {
  /** Simulated seconds. */
  readonly t: number[];
  readonly booting: number[];
  readonly idle: number[];
  readonly busy: number[];
  readonly shutdown: number[];
  /** Containers Queued or Locked and not yet started. */
  readonly queued: number[];
  readonly running: number[];
  /** Cumulative cost so far. */
  readonly cost: number[];
}
