// Mapper policies compared on every scenario in scenarios/, on a second trace replay and one
// what-if: for each scenario and policy, the median over five seeds of cost / lower bound
// and of the wait p95, both relative to the arvados policy, and the number of seeds on
// which the policy is cheaper than arvados with a wait p95 at most 10 % worse. The figures are simulated, hence
// deterministic: they are computed once per process, and further runs (the harness's
// warm-up and repeats) return the same rows. Run it alone with
// `npm run bench -- --only policies --repeat 1 --warmup 0`.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_POLICY, policyNames } from '../core/scheduler/policies.js';
import { runScenario } from '../sim/runner/run-scenario.js';
import { loadScenarioFile } from '../sim/scenario/scenario.js';
import type { Benchmark, BenchRow } from './benchmark.js';

export const SEEDS: readonly number[] = [1, 2, 3, 4, 5];

/** One scenario to compare policies on: a file and `--set` overrides. */
export interface PolicyCase {
  readonly label: string;
  readonly file: string;
  readonly sets: readonly string[];
}

/** Medians over the seeds of one policy on one case. */
export interface PolicyFigures {
  readonly label: string;
  readonly policy: string;
  readonly ratio: number;
  readonly waitP95: number;
  /** Per seed, in seed order. */
  readonly ratios: readonly number[];
  readonly waits: readonly number[];
  readonly violations: number;
  readonly failedExpectations: number;
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A burst on a menu where the bigger type is cheaper per VCPU and eligible (price factor 2). */
const NONLINEAR_BURST: readonly string[] = [
  'cluster.Containers.MaximumPriceFactor=2',
  'cluster.InstanceTypes={m5.xlarge: {VCPUs: 4, RAM: 16GiB, IncludedScratch: 64GB, Price: 0.192}, m5.2xlarge: {VCPUs: 8, RAM: 32GiB, IncludedScratch: 128GB, Price: 0.34}}',
];

/**
 * scenarios/*.yaml; the Lublin-Feitelson trace through trace-replay.yaml when present; and
 * one what-if, burst.yaml with a bigger type cheaper per VCPU (where `packing` has a choice).
 */
export function defaultCases(root: string = repoRoot): PolicyCase[] {
  const dir = join(root, 'scenarios');
  const cases: PolicyCase[] = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ label: f.replace(/\.yaml$/, ''), file: join(dir, f), sets: [] }));
  const lublin = join(root, '..', 'shared', 'traces', 'lublin_256.swf');
  if (existsSync(lublin) && existsSync(join(dir, 'trace-replay.yaml'))) {
    cases.push({ label: 'trace-replay (lublin_256)', file: join(dir, 'trace-replay.yaml'), sets: [`workload[0].path=${lublin}`] });
  }
  if (existsSync(join(dir, 'burst.yaml'))) {
    cases.push({ label: 'burst (what-if: m5.2xlarge at 0.34, price factor 2)', file: join(dir, 'burst.yaml'), sets: NONLINEAR_BURST });
  }
  return cases;
}

/** Runs every policy on every case over the seeds; throws if a run breaks an invariant. */
export async function comparePolicies(cases: readonly PolicyCase[], policies: readonly string[], seeds: readonly number[] = SEEDS): Promise<PolicyFigures[]> {
  const out: PolicyFigures[] = [];
  for (const c of cases) {
    for (const policy of policies) {
      const ratios: number[] = [];
      const waits: number[] = [];
      let violations = 0;
      let failedExpectations = 0;
      for (const seed of seeds) {
        const { summary: s } = await runScenario(loadScenarioFile(c.file, { seed, policy, sets: c.sets }));
        ratios.push(s.cost.lowerBound > 0 ? s.cost.total / s.cost.lowerBound : NaN);
        waits.push(s.wait.p95);
        violations += s.invariantViolations.length;
        failedExpectations += s.expectations.filter((e) => !e.ok).length;
      }
      if (violations > 0) throw new Error(`comparing policies: ${policy} on ${c.label} broke ${violations} invariants`);
      out.push({ label: c.label, policy, ratio: median(ratios), waitP95: median(waits), ratios, waits, violations, failedExpectations });
    }
  }
  return out;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The figures as bench rows, with each policy's change against arvados on the same case. */
export function toRows(figs: readonly PolicyFigures[]): BenchRow[] {
  const base = new Map(figs.filter((f) => f.policy === DEFAULT_POLICY).map((f) => [f.label, f]));
  return figs.map((f) => {
    const b = base.get(f.label);
    const figures: Record<string, number> = {
      'cost/lowerBound': round(f.ratio, 4),
      'wait p95 s': round(f.waitP95, 1),
    };
    if (b !== undefined) {
      figures['cost vs arvados %'] = round((f.ratio / b.ratio - 1) * 100, 2);
      figures['wait p95 vs arvados %'] = b.waitP95 > 0 ? round((f.waitP95 / b.waitP95 - 1) * 100, 2) : 0;
    }
    if (b !== undefined) figures['seeds won'] = seedWins(f, b);
    figures['failed expectations'] = f.failedExpectations;
    return { case: `${f.label} / ${f.policy}`, figures };
  });
}

/** Seeds on which `f` costs less than `base` (ratio) with a wait p95 at most 10 % worse. */
export function seedWins(f: PolicyFigures, base: PolicyFigures): number {
  let n = 0;
  f.ratios.forEach((r, i) => {
    const br = base.ratios[i]!;
    const bw = base.waits[i]!;
    if (r < br && f.waits[i]! <= bw * 1.1) n++;
  });
  return n;
}

/** The figures as a Markdown table (3 decimals for the ratio), one row per case and policy. */
export function markdownTable(figs: readonly PolicyFigures[]): string {
  const base = new Map(figs.filter((f) => f.policy === DEFAULT_POLICY).map((f) => [f.label, f]));
  const lines = [
    '| scenario | policy | cost / lower bound | vs arvados | wait p95 (s) | vs arvados | seeds won |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %`;
  for (const f of figs) {
    const b = base.get(f.label);
    const dc = b !== undefined ? pct(f.ratio / b.ratio - 1) : '';
    const dw = b !== undefined && b.waitP95 > 0 ? pct(f.waitP95 / b.waitP95 - 1) : '';
    const won = b !== undefined && f.policy !== DEFAULT_POLICY ? `${seedWins(f, b)}/${f.ratios.length}` : '';
    lines.push(`| ${f.label} | ${f.policy} | ${f.ratio.toFixed(3)} | ${dc} | ${f.waitP95.toFixed(0)} | ${dw} | ${won} |`);
  }
  return lines.join('\n');
}

function round(v: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}

let cached: Promise<BenchRow[]> | null = null;

export const benchmarks: Benchmark[] = [
  {
    name: 'policies',
    description: `every policy on every scenario (and the Lublin trace), medians over seeds ${SEEDS.join(',')}: cost/lowerBound and wait p95`,
    run: () => {
      cached ??= comparePolicies(defaultCases(), policyNames()).then((figs) => {
        // The harness rounds to 3 significant digits; this table keeps what docs/policies.md shows.
        console.error(`${markdownTable(figs)}\n`);
        return toRows(figs);
      });
      return cached;
    },
  },
];
