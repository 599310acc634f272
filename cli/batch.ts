// What `compare` and `whatif` share: seeds, --jobs, the runs-done counter, running a batch
// with its errors mapped to exit codes, and each run's own files.
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { stringifyJson } from '../core/domain/json.js';
import { BatchRunError, plannedWorkers, runBatch, type BatchJob } from '../sim/runner/parallel.js';
import type { RunResult } from '../sim/runner/summarize.js';
import { containersCsv, type Summary } from '../sim/runner/summary.js';
import { InputError } from './errors.js';
import type { Command } from './main.js';
import { HelpRequested } from './sim.js';
import { writeFileAtomic } from './write-atomic.js';

/** `--seeds N`: a whole number from 1 to `max`. @throws InputError */
export function parseCount(text: unknown, option: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (typeof text !== 'string' || !/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new InputError(`${option}: expected a whole number from 1 to ${max}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** The seeds of a batch: the scenario's (or --seed's) seed and the next N-1. */
export function seedList(base: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => base + i);
}

/** `--transport`: batches run in process or in worker threads, always with the direct transport. */
export function requireDirect(transport: 'direct' | 'ssh', command: string): void {
  if (transport !== 'direct') throw new InputError(`--transport: ${command} runs the direct transport only (use \`vmdispatch sim --transport ssh\` for one run)`);
}

/** `--out DIR`: required. */
export function requireOut(out: string | undefined, usage: string): string {
  if (out === undefined || out === '') throw new InputError(`--out: required (the folder for the report)\n${usage}`);
  return out;
}

/** Create the `--out` folder. @throws InputError when it cannot be (a file is in the way, no permission) */
export function makeOutDir(out: string): void {
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new InputError(`--out ${out}: cannot create the folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * "runs done / total" on a terminal's stderr; nothing when stderr is not a TTY, so pipes
 * and CI logs stay clean.
 */
export class RunCounter {
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update = (done: number, total: number): void => {
    if (this.out.isTTY !== true) return;
    this.out.write(`\r${this.label}: ${done}/${total} runs done\x1b[K`);
    this.drawn = true;
  };

  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}

export interface BatchRun<T> {
  readonly jobs: readonly BatchJob[];
  /** `--jobs`: runs at once; default the available cores. */
  readonly concurrency: number | undefined;
  readonly label: string;
  readonly quiet: boolean;
  readonly onResult: (index: number, result: RunResult) => T;
}

/** Run a batch with a progress counter; invalid scenarios or traces are bad input (exit 2). */
export async function runBatchOrExit<T>(b: BatchRun<T>): Promise<T[]> {
  const counter = b.quiet ? undefined : new RunCounter(b.label);
  try {
    return await runBatch(b.jobs, { onResult: b.onResult, ...(counter !== undefined ? { onProgress: counter.update } : {}), ...(b.concurrency !== undefined ? { concurrency: b.concurrency } : {}) });
  } catch (e) {
    if (e instanceof BatchRunError && e.badInput) throw new InputError(e.message, { cause: e });
    throw e;
  } finally {
    counter?.clear();
  }
}

/** A line for stderr saying how the runs are spread over the cores. */
export function describeParallelism(jobs: number, concurrency: number | undefined): string {
  const workers = plannedWorkers(jobs, concurrency ?? availableParallelism());
  return workers > 0 ? `${jobs} runs on ${workers} worker threads` : `${jobs} runs in process, one at a time`;
}

/** A run's own files: summary.json and containers.csv (for users' own analysis). */
export function writeRunFiles(dir: string, result: RunResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'summary.json'), stringifyJson(result.summary, 2) + '\n');
  writeFileAtomic(join(dir, 'containers.csv'), containersCsv(result.rows));
}

/** A name safe as a folder name. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function brokeInvariants(summaries: readonly Summary[]): number {
  return summaries.reduce((n, s) => n + (s.invariantViolations.length > 0 ? 1 : 0), 0);
}

/**
 * The `vmdispatch compare`/`whatif` command around `execute`: usage on --help, the table on
 * stdout, what was written, and exit 1 when any run broke an invariant.
 */
export function batchCommand<T>(o: {
  readonly name: string;
  readonly usage: string;
  readonly execute: (argv: readonly string[]) => Promise<{ result: T; out: string }>;
  readonly table: (result: T) => string;
  readonly wrote: (out: string) => string;
  readonly summaries: (result: T) => readonly Summary[];
  readonly jsonFile: string;
}): Command {
  return {
    async run(argv) {
      let done;
      try {
        done = await o.execute(argv);
      } catch (e) {
        if (e instanceof HelpRequested) {
          console.log(o.usage);
          return 0;
        }
        throw e;
      }
      const { result, out } = done;
      console.log(o.table(result));
      console.log(`\nwrote ${o.wrote(out)}`);
      const runs = o.summaries(result);
      const broke = brokeInvariants(runs);
      if (broke > 0) {
        console.error(`${o.name}: ${broke} of ${runs.length} runs broke an invariant (see ${o.jsonFile})`);
        return 1;
      }
      return 0;
    },
  };
}
