// Independent scenario runs (compare, whatif) on the available cores.
//
// The choice: a worker_threads pool over the compiled module (`dist/sim/runner/run-worker.js`)
// when this module itself runs compiled, else every run in process, one after the other.
// Under vitest this module is TypeScript source: a worker could not load `run-worker.ts`
// (Node 20 has no TypeScript loader) and must never load a stale `dist/` built from other
// sources, so tests run in process. A run depends only on its scenario file, options and
// seed (no state is shared between runs: each builds its own engine, cloud and controller),
// so either way gives the same results, in job order, wall time aside.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadScenarioFile, ScenarioFileError, type ScenarioOptions } from '../scenario/scenario.js';
import { ScenarioError } from '../scenario/scenario-error.js';
import { runScenario } from './run-scenario.js';
import type { RunResult } from './summarize.js';

/** One run: a scenario file with its options (`--set`s, seed, policy). Direct transport. */
export interface BatchJob {
  readonly file: string;
  readonly options: ScenarioOptions;
}

/**
 * A run could not be made. `badInput`: the scenario or one of its traces is invalid
 * (the CLI exits 2); otherwise a bug or a crashed worker.
 */
export class BatchRunError extends Error {
  constructor(
    readonly job: number,
    readonly badInput: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'BatchRunError';
  }
}

export interface BatchOptions<T> {
  /**
   * Called in the calling thread as each run finishes (in completion order, which varies);
   * its return value is kept, by job index. Use it to write a run's files and drop its rows.
   */
  readonly onResult: (index: number, result: RunResult) => T;
  /** Called after each run with the number done so far. */
  readonly onProgress?: (done: number, total: number) => void;
  /** How many runs at once (default: the available cores); 1 runs in process. */
  readonly concurrency?: number;
}

/** Where the worker entry is, or null when runs must stay in process (see the top). */
export function workerEntry(): URL | null {
  if (!import.meta.url.endsWith('.js')) return null;
  const url = new URL('./run-worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

/** How a batch will run: the number of parallel workers, 0 for in process. */
export function plannedWorkers(jobs: number, concurrency = availableParallelism()): number {
  const n = Math.min(jobs, Math.max(1, Math.floor(concurrency)));
  return n > 1 && workerEntry() !== null ? n : 0;
}

/**
 * Runs every job; resolves with `onResult`'s values in job order. The first failure
 * stops the batch (running workers are terminated) and rejects with a BatchRunError.
 */
export async function runBatch<T>(jobs: readonly BatchJob[], opts: BatchOptions<T>): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let done = 0;
  const finished = (index: number, result: RunResult): void => {
    out[index] = opts.onResult(index, result);
    opts.onProgress?.(++done, jobs.length);
  };
  const workers = plannedWorkers(jobs.length, opts.concurrency);
  const entry = workerEntry();
  if (workers > 0 && entry !== null) {
    await runPool<BatchJob, RunResult>(entry, jobs, workers, finished);
  } else {
    for (let i = 0; i < jobs.length; i++) finished(i, await runJob(jobs[i]!, i));
  }
  return out;
}

/** One job in this thread. @throws BatchRunError */
export async function runJob(job: BatchJob, index = 0): Promise<RunResult> {
  try {
    return await runScenario(loadScenarioFile(job.file, job.options));
  } catch (e) {
    if (e instanceof ScenarioFileError) throw new BatchRunError(index, true, e.message);
    if (e instanceof ScenarioError) throw new BatchRunError(index, true, `${job.file}: ${e.message}`);
    throw new BatchRunError(index, false, `running ${job.file} (seed ${String(job.options.seed)}, policy ${String(job.options.policy)}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}

/** Parent → worker: run this job. */
export interface PoolRequest<J> {
  readonly index: number;
  readonly job: J;
}

/** Worker → parent: the result of one job. */
export type PoolReply<R> =
  | { readonly index: number; readonly ok: true; readonly value: R }
  | { readonly index: number; readonly ok: false; readonly badInput: boolean; readonly message: string };

/**
 * A pool of `size` workers loaded from `entry`, each taking one job at a time: posts
 * PoolRequest messages, expects one PoolReply per request. Resolves when every job is done;
 * rejects with a BatchRunError on the first failed job or crashed worker, after
 * terminating the workers.
 */
export function runPool<J, R>(entry: URL, jobs: readonly J[], size: number, onResult: (index: number, value: R) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const pool: Worker[] = [];
    // Workers we terminated ourselves (no job left): their exit is not a crash.
    const retired = new Set<Worker>();
    let next = 0;
    let pending = jobs.length;
    let failed = false;
    const stop = (err: BatchRunError): void => {
      if (failed) return;
      failed = true;
      for (const w of pool) void w.terminate();
      reject(err);
    };
    const feed = (w: Worker): void => {
      if (next >= jobs.length) {
        retired.add(w);
        void w.terminate();
        return;
      }
      const index = next++;
      w.postMessage({ index, job: jobs[index]! } satisfies PoolRequest<J>);
    };
    if (pending === 0) {
      resolve();
      return;
    }
    for (let i = 0; i < Math.min(size, jobs.length); i++) {
      const w = new Worker(entry);
      pool.push(w);
      w.on('message', (m: PoolReply<R>) => {
        if (failed) return;
        if (!m.ok) {
          stop(new BatchRunError(m.index, m.badInput, m.message));
          return;
        }
        try {
          onResult(m.index, m.value);
        } catch (e) {
          stop(new BatchRunError(m.index, false, `handling the result of run ${m.index}: ${(e as Error).message}`));
          return;
        }
        if (--pending === 0) {
          for (const p of pool) {
            retired.add(p);
            void p.terminate();
          }
          resolve();
        } else {
          feed(w);
        }
      });
      w.on('error', (e) => stop(new BatchRunError(-1, false, `scenario worker failed: ${e.message}`)));
      w.on('exit', (code) => {
        if (!failed && !retired.has(w) && pending > 0) stop(new BatchRunError(-1, false, `scenario worker exited with code ${code}`));
      });
      feed(w);
    }
  });
}
