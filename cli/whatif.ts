// `vmdispatch whatif SCENARIO.yaml --vary PATH=v1,v2,... [--vary ...] --out DIR`: a sweep over
// scenario values (the cartesian product of the --vary lists), each point run with every
// seed; whatif.html (the cost / waiting-time trade-off), whatif.json, whatif.csv.
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { stringifyJson } from '../core/domain/json.js';
import { formatSpread } from '../reports/spread.js';
import { gridIndices, paretoFront, renderWhatifReport, whatifCsv, whatifPoint, type VaryAxis, type WhatifResult } from '../reports/whatif-report.js';
import type { BatchJob } from '../sim/runner/parallel.js';
import { readDuration } from '../sim/scenario/fields.js';
import type { ScenarioOptions } from '../sim/scenario/scenario.js';
import { batchCommand, describeParallelism, makeOutDir, parseCount, requireDirect, requireOut, runBatchOrExit, seedList, writeRunFiles } from './batch.js';
import { InputError } from './errors.js';
import type { Command } from './main.js';
import { loadScenarioOrExit, parseSimArgs } from './sim.js';
import { writeFileAtomic } from './write-atomic.js';

export const USAGE =
  'usage: vmdispatch whatif SCENARIO.yaml --vary PATH=V1,V2,... [--vary PATH=...]... --out DIR [--seeds N] [--seed FIRST] [--policy NAME] [--set PATH=VALUE]... [--jobs N] [--quiet]';
/** Grid points at most: beyond this a sweep takes hours and its charts are unreadable. */
export const MAX_GRID_POINTS = 200;
const MAX_SEEDS = 100;

/**
 * Split a --vary value list at the commas that are not inside `{}`, `[]` or quotes, so that
 * `{median: 90s, p95: 4m},{median: 3m, p95: 10m}` is two values. @throws InputError
 */
export function splitValues(text: string, option: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  let prev = '';
  for (const ch of text) {
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if ((ch === '"' || ch === "'") && (prev === '' || '{[,:'.includes(prev))) {
      // A quote opens a YAML string only where a scalar starts (so `it's` stays plain).
      quote = ch;
    } else if (ch === '{' || ch === '[') {
      depth++;
    } else if (ch === '}' || ch === ']') {
      depth--;
      if (depth < 0) throw new InputError(`${option}: unbalanced ${JSON.stringify(ch)}`);
    } else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      prev = '';
      continue;
    }
    cur += ch;
    if (ch.trim() !== '') prev = ch;
  }
  if (quote !== null || depth !== 0) throw new InputError(`${option}: unbalanced quotes or brackets`);
  out.push(cur.trim());
  const empty = out.findIndex((v) => v === '');
  if (empty >= 0) throw new InputError(`${option}: value ${empty + 1} is empty (values are separated by commas)`);
  const dup = out.find((v, i) => out.indexOf(v) !== i);
  if (dup !== undefined) throw new InputError(`${option}: value ${JSON.stringify(dup)} is listed twice`);
  return out;
}

/** One `--vary PATH=v1,v2,...`, with the values as numbers for charts where they are. @throws InputError */
export function parseVary(arg: string): VaryAxis {
  const option = `--vary ${arg}`;
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new InputError(`${option}: expected PATH=V1,V2,... (e.g. cloud.bootTime=90s,3m)`);
  const path = arg.slice(0, eq).trim();
  const texts = splitValues(arg.slice(eq + 1), option);
  const parsed = texts.map((t) => {
    try {
      return parseYaml(t) as unknown;
    } catch (e) {
      throw new InputError(`${option}: ${JSON.stringify(t)} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
  });
  if (parsed.every((v) => typeof v === 'number' && Number.isFinite(v))) return { path, texts, numeric: parsed as number[], unit: '' };
  if (parsed.every((v) => typeof v === 'string')) {
    try {
      return { path, texts, numeric: parsed.map((v) => readDuration(v as string, path) / 1000), unit: 'seconds' };
    } catch {
      // Not all durations: categories.
    }
  }
  return { path, texts, numeric: null, unit: '' };
}

/** The --vary axes: at least one, each PATH once, at most MAX_GRID_POINTS combinations. @throws InputError */
export function parseAxes(args: unknown): VaryAxis[] {
  const list = Array.isArray(args) ? (args as string[]) : [];
  if (list.length === 0) throw new InputError(`--vary: required at least once (e.g. --vary cluster.Containers.CloudVMs.MaxInstances=10,20,40)\n${USAGE}`);
  const axes = list.map(parseVary);
  const dup = axes.find((a, i) => axes.findIndex((b) => b.path === a.path) !== i);
  if (dup !== undefined) throw new InputError(`--vary: ${dup.path} is varied twice; list all its values in one --vary`);
  const points = axes.reduce((n, a) => n * a.texts.length, 1);
  if (points > MAX_GRID_POINTS) {
    throw new InputError(`--vary: the grid has ${points} points (${axes.map((a) => a.texts.length).join(' x ')}); at most ${MAX_GRID_POINTS}: vary fewer values at once`);
  }
  return axes;
}

function pointSets(axes: readonly VaryAxis[], at: readonly number[]): string[] {
  return at.map((vi, ai) => `${axes[ai]!.path}=${axes[ai]!.texts[vi]}`);
}

/** Every value alone, then every combination, must make a valid scenario. @throws InputError naming the --vary value */
function validate(file: string, base: ScenarioOptions, axes: readonly VaryAxis[], grid: readonly number[][]): void {
  const check = (sets: string[], what: string): void => {
    try {
      loadScenarioOrExit(file, { ...base, sets: [...(base.sets ?? []), ...sets] });
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${what}: ${e.message}`, { cause: e });
      throw e;
    }
  };
  for (const a of axes) for (const t of a.texts) check([`${a.path}=${t}`], `--vary ${a.path}=${t}`);
  if (axes.length > 1) for (const at of grid) check(pointSets(axes, at), `--vary combination ${pointSets(axes, at).join(' ')}`);
}

/** Runs the sweep and writes its files into `out`. @throws InputError, HelpRequested */
export async function whatif(argv: readonly string[]): Promise<{ result: WhatifResult; out: string }> {
  const args = parseSimArgs(argv, USAGE, { vary: { type: 'string', multiple: true }, seeds: { type: 'string' }, jobs: { type: 'string' } });
  requireDirect(args.transport, 'whatif');
  const axes = parseAxes(args.extra.vary);
  const out = requireOut(args.out, USAGE);
  const nSeeds = parseCount(args.extra.seeds, '--seeds', 3, MAX_SEEDS);
  const jobsOpt = args.extra.jobs === undefined ? undefined : parseCount(args.extra.jobs, '--jobs', 1, 1024);
  const scenario = loadScenarioOrExit(args.file, args.options);
  for (const w of scenario.configWarnings) console.error(`warning: ${args.file}: ${w}`);
  const grid = gridIndices(axes);
  validate(args.file, args.options, axes, grid);
  const seeds = seedList(scenario.seed, nSeeds);
  const base: ScenarioOptions = { ...args.options, policy: scenario.policy };

  const jobs: (BatchJob & { point: number; seed: number })[] = grid.flatMap((at, point) =>
    seeds.map((seed) => ({ file: args.file, options: { ...base, seed, sets: [...(base.sets ?? []), ...pointSets(axes, at)] }, point, seed })),
  );
  makeOutDir(out);
  if (!args.quiet) console.error(`whatif ${scenario.name}: ${grid.length} configurations x ${nSeeds} seeds: ${describeParallelism(jobs.length, jobsOpt)}`);
  const summaries = await runBatchOrExit({
    jobs,
    concurrency: jobsOpt,
    label: `whatif ${scenario.name}`,
    quiet: args.quiet,
    onResult: (i, r) => {
      const j = jobs[i]!;
      writeRunFiles(join(out, `point${j.point + 1}-seed${j.seed}`), r);
      return r.summary;
    },
  });
  const points = grid.map((at, point) =>
    whatifPoint(
      axes,
      at,
      jobs.flatMap((j, i) => (j.point === point ? [{ seed: j.seed, summary: summaries[i]! }] : [])),
    ),
  );
  const result: WhatifResult = { scenario: scenario.name, policy: scenario.policy, seeds, axes, points };
  writeFileAtomic(join(out, 'whatif.json'), stringifyJson(result, 2) + '\n');
  writeFileAtomic(join(out, 'whatif.csv'), whatifCsv(result));
  writeFileAtomic(join(out, 'whatif.html'), renderWhatifReport(result));
  return { result, out };
}

/** The sweep as plain text for the terminal: one line per configuration. */
export function formatWhatifTable(r: WhatifResult): string {
  const front = new Set(paretoFront(r.points));
  const head = ['#', ...r.axes.map((a) => a.path), 'cost', 'cost/bound', 'wait p50 (s)', 'wait p95 (s)', 'best'];
  const rows = r.points.map((p, i) => [
    String(i + 1),
    ...p.values,
    formatSpread(p.cost),
    formatSpread(p.ratio),
    formatSpread(p.waitP50, 1),
    formatSpread(p.waitP95, 1),
    front.has(p) ? 'yes' : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [head, ...rows].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export const command: Command = batchCommand({
  name: 'whatif',
  usage: USAGE,
  execute: whatif,
  table: formatWhatifTable,
  wrote: (out) => `${join(out, 'whatif.html')}, whatif.json, whatif.csv and point<i>-seed<k>/containers.csv`,
  summaries: (result) => result.points.flatMap((p) => p.runs.map((r) => r.summary)),
  jsonFile: 'whatif.json',
});
