import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Benchmark, BenchRow } from './benchmark.js';

/**
 * Benchmark modules, each exporting `benchmarks: Benchmark[]`. To add one, write
 * `bench/<name>.bench.ts` and add its line here (paths as compiled: `.js`).
 */
const MODULES: readonly string[] = [
  './engine.bench.js',
  './workload.bench.js',
  './controller.bench.js',
  './ssh.bench.js',
  './mapper.bench.js',
  './policies.bench.js',
  './simulator.bench.js',
];

interface FigureStats {
  readonly benchmark: string;
  readonly case: string;
  readonly figure: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: readonly number[];
}

const USAGE = `usage: node dist/bench/main.js [--repeat N] [--warmup N] [--only SUBSTRING]... [--json FILE] [--list]
  --repeat N     measured runs per benchmark (default 5)
  --warmup N     unmeasured runs first, to let the JIT settle (default 1)
  --only S       run only benchmarks whose name contains S (repeatable)
  --json FILE    also write the figures as JSON
  --list         list the benchmarks and exit`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        repeat: { type: 'string', default: '5' },
        warmup: { type: 'string', default: '1' },
        only: { type: 'string', multiple: true },
        json: { type: 'string' },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const repeat = Number(args.repeat);
  const warmup = Number(args.warmup);
  if (!Number.isInteger(repeat) || repeat < 1 || !Number.isInteger(warmup) || warmup < 0) {
    console.error(`bench: --repeat must be a whole number >= 1 and --warmup >= 0\n${USAGE}`);
    return 2;
  }
  const all = await loadBenchmarks();
  const only = args.only ?? [];
  const chosen = all.filter((b) => only.length === 0 || only.some((s) => b.name.includes(s)));
  if (args.list) {
    for (const b of all) console.log(`${b.name}\t${b.description}`);
    return 0;
  }
  if (chosen.length === 0) {
    console.error(`bench: no benchmark matches --only ${only.join(', ')} (have: ${all.map((b) => b.name).join(', ')})`);
    return 2;
  }
  const results: FigureStats[] = [];
  for (const b of chosen) {
    console.error(`${b.name}: ${b.description} (${warmup} warm-up, ${repeat} runs)`);
    for (let i = 0; i < warmup; i++) await b.run();
    const runs: BenchRow[][] = [];
    for (let i = 0; i < repeat; i++) runs.push(await b.run());
    const stats = summarise(b.name, runs);
    results.push(...stats);
    printTable(stats);
  }
  if (args.json !== undefined) {
    const doc = { node: process.version, platform: `${process.platform}-${process.arch}`, repeat, warmup, results };
    writeFileSync(args.json, JSON.stringify(doc, null, 2) + '\n');
    console.error(`wrote ${args.json}`);
  }
  return 0;
}

async function loadBenchmarks(): Promise<Benchmark[]> {
  const out: Benchmark[] = [];
  for (const path of MODULES) {
    const mod = (await import(path)) as { benchmarks?: Benchmark[] };
    if (!Array.isArray(mod.benchmarks)) throw new Error(`loading benchmarks from ${path}: it does not export benchmarks: Benchmark[]`);
    out.push(...mod.benchmarks);
  }
  const names = new Set<string>();
  for (const b of out) {
    if (names.has(b.name)) throw new Error(`loading benchmarks: duplicate name ${b.name}`);
    names.add(b.name);
  }
  return out;
}

/** Median/min/max of each (case, figure) over the runs, in first-run order. */
function summarise(benchmark: string, runs: BenchRow[][]): FigureStats[] {
  const values = new Map<string, { case: string; figure: string; runs: number[] }>();
  for (const rows of runs) {
    for (const row of rows) {
      for (const [figure, v] of Object.entries(row.figures)) {
        const key = `${row.case}\u0000${figure}`;
        let s = values.get(key);
        if (s === undefined) values.set(key, (s = { case: row.case, figure, runs: [] }));
        s.runs.push(v);
      }
    }
  }
  return [...values.values()].map((s) => {
    const sorted = [...s.runs].sort((a, b) => a - b);
    return { benchmark, case: s.case, figure: s.figure, median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: s.runs };
  });
}

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (Number.isInteger(v)) return String(v);
  return a >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

function printTable(stats: FigureStats[]): void {
  const header = ['benchmark', 'case', 'figure', 'median', 'min', 'max'];
  const rows = stats.map((s) => [s.benchmark, s.case, s.figure, fmt(s.median), fmt(s.min), fmt(s.max)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log('');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
