// `vmdispatch compare SCENARIO.yaml --policy a,b,c [--seeds N] --out DIR`: every policy on
// the same workloads and seeds; compare.html, compare.json, and each run's containers.csv.
import { join } from 'node:path';
import { stringifyJson } from '../core/domain/json.js';
import { findPolicy, policyNames } from '../core/scheduler/policies.js';
import { aggregateCompare, renderCompareReport, type CompareResult } from '../reports/compare-report.js';
import type { BatchJob } from '../sim/runner/parallel.js';
import { formatSpread } from '../reports/spread.js';
import { batchCommand, describeParallelism, makeOutDir, parseCount, requireDirect, requireOut, runBatchOrExit, safeName, seedList, writeRunFiles } from './batch.js';
import { InputError } from './errors.js';
import type { Command } from './main.js';
import { loadScenarioOrExit, parseSimArgs } from './sim.js';
import { writeFileAtomic } from './write-atomic.js';

export const USAGE =
  'usage: vmdispatch compare SCENARIO.yaml --policy A,B,... --out DIR [--seeds N] [--seed FIRST] [--set PATH=VALUE]... [--jobs N] [--quiet]';
const MAX_SEEDS = 1000;

/** `--policy a,b,c`: names from the registry, each once. @throws InputError */
export function parsePolicies(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') throw new InputError(`--policy: required: a comma-separated list of policies (${policyNames().join(', ')})\n${USAGE}`);
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) {
    if (n === '') throw new InputError(`--policy: empty policy name in ${JSON.stringify(text)}`);
    if (findPolicy(n) === undefined) throw new InputError(`--policy: unknown policy ${JSON.stringify(n)}; expected one of ${policyNames().join(', ')}`);
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new InputError(`--policy: ${JSON.stringify(dup)} is listed twice`);
  return names;
}

/** Runs the comparison and writes its files into `out`. @throws InputError, HelpRequested */
export async function compare(argv: readonly string[]): Promise<{ result: CompareResult; out: string }> {
  const args = parseSimArgs(argv, USAGE, { seeds: { type: 'string' }, jobs: { type: 'string' } });
  requireDirect(args.transport, 'compare');
  const policies = parsePolicies(args.options.policy);
  const out = requireOut(args.out, USAGE);
  const seeds = parseCount(args.extra.seeds, '--seeds', 5, MAX_SEEDS);
  const jobsOpt = args.extra.jobs === undefined ? undefined : parseCount(args.extra.jobs, '--jobs', 1, 1024);
  const { policy: _ignored, ...base } = args.options;
  const scenario = loadScenarioOrExit(args.file, base);
  for (const w of scenario.configWarnings) console.error(`warning: ${args.file}: ${w}`);
  const seedValues = seedList(scenario.seed, seeds);

  const jobs: (BatchJob & { policy: string; seed: number })[] = policies.flatMap((policy) =>
    seedValues.map((seed) => ({ file: args.file, options: { ...base, seed, policy }, policy, seed })),
  );
  makeOutDir(out);
  if (!args.quiet) console.error(`compare ${scenario.name}: ${policies.length} policies x ${seeds} seeds: ${describeParallelism(jobs.length, jobsOpt)}`);
  const summaries = await runBatchOrExit({
    jobs,
    concurrency: jobsOpt,
    label: `compare ${scenario.name}`,
    quiet: args.quiet,
    onResult: (i, result) => {
      const j = jobs[i]!;
      writeRunFiles(join(out, `${safeName(j.policy)}-seed${j.seed}`), result);
      return result.summary;
    },
  });
  const result = aggregateCompare(
    scenario.name,
    policies,
    seedValues,
    jobs.map((j, i) => ({ policy: j.policy, seed: j.seed, summary: summaries[i]! })),
  );
  writeFileAtomic(join(out, 'compare.json'), stringifyJson(result, 2) + '\n');
  writeFileAtomic(join(out, 'compare.html'), renderCompareReport(result));
  return { result, out };
}

/** The comparison as plain text for the terminal: one line per policy. */
export function formatCompareTable(r: CompareResult): string {
  const head = ['policy', 'cost', 'cost/bound', 'wait p50 (s)', 'wait p95 (s)', 'interruptions', 'violations'];
  const rows = r.byPolicy.map((p) => [
    p.policy,
    formatSpread(p.cost.total),
    formatSpread(p.cost.ratio),
    formatSpread(p.wait.p50, 1),
    formatSpread(p.wait.p95, 1),
    formatSpread(p.interruptions, 0),
    String(p.invariantViolations),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [head, ...rows].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export const command: Command = batchCommand({
  name: 'compare',
  usage: USAGE,
  execute: compare,
  table: formatCompareTable,
  wrote: (out) => `${join(out, 'compare.html')}, compare.json and <policy>-seed<k>/containers.csv`,
  summaries: (result) => result.runs.map((r) => r.summary),
  jsonFile: 'compare.json',
});
