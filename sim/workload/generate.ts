import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Rng } from '../../core/ports/rng.js';
import { ScenarioError } from '../scenario/scenario-error.js';
import { mapClusterCsvRows, parseClusterCsv } from './cluster-csv.js';
import { sampleBool, sampleChoice, sampleDist, samplePriority } from './distributions.js';
import { mapSwfJobs, parseSwf } from './swf.js';
import { TraceFormatError, type SkipCounts } from './trace-error.js';
import type { CommonFields, ContainerRequestSpec, RequestSource, WorkloadEntry } from './types.js';

export interface GenerateOptions {
  /** The workload's stream (e.g. `seedRng.fork('workload')`); each entry forks its own. */
  readonly rng: Rng;
  /** Relative trace paths are resolved against this directory (the scenario file's). */
  readonly scenarioDir: string;
  /** Default `maxVCPUs` of trace entries: the largest instance type's VCPUs. */
  readonly largestTypeVCPUs: number;
  /** Reads a trace file; default: the file system (UTF-8). */
  readonly readFile?: (absolutePath: string) => string;
}

export interface WorkloadReport {
  /** Sorted by submit time; ties keep entry order, then order within the entry. */
  readonly requests: ContainerRequestSpec[];
  /** Trace jobs left out, per entry that skipped any. */
  readonly skipped: readonly { readonly entry: number; readonly path: string; readonly reasons: SkipCounts }[];
}

/**
 * Turns validated workload entries into container requests, sorted by submit time (stable).
 *
 * Determinism: entry i draws from `rng.fork(String(i))` only, and within an entry each field
 * (arrivals, runtime, vcpus, ...) from its own fork, so adding or removing a later entry, or
 * changing one field, does not change the other draws.
 * @throws ScenarioError (path `workload[i].path`) when a trace file cannot be read or has a
 * malformed line (the message names the file and the line).
 */
export function generateWorkload(entries: readonly WorkloadEntry[], opts: GenerateOptions): ContainerRequestSpec[] {
  return generateWorkloadReport(entries, opts).requests;
}

export function generateWorkloadReport(entries: readonly WorkloadEntry[], opts: GenerateOptions): WorkloadReport {
  const requests: ContainerRequestSpec[] = [];
  const skipped: { entry: number; path: string; reasons: SkipCounts }[] = [];
  entries.forEach((entry, i) => {
    const rng = opts.rng.fork(String(i));
    const out = (n: number, submitAt: number, fields: Omit<ContainerRequestSpec, 'id' | 'submitAt' | 'source'>, source: Partial<RequestSource> = {}) =>
      requests.push({ id: `w${i}-${n}`, submitAt, ...fields, source: { entry: i, kind: entry.kind, ...source } });
    switch (entry.kind) {
      case 'poisson': {
        const f = forks(rng);
        const meanGapMs = 3_600_000 / entry.ratePerHour;
        let t = sampleDist(entry.start, f.start);
        for (let n = 0; n < entry.count; n++) {
          t += -Math.log(1 - f.arrivals.next()) * meanGapMs;
          out(n, Math.round(t), {
            runtimeMs: sampleDist(entry.runtime, f.runtime),
            vcpus: sampleChoice(entry.vcpus, f.vcpus),
            ram: sampleChoice(entry.ram, f.ram),
            gpu: entry.gpu,
            ...drawCommon(entry, f),
          });
        }
        break;
      }
      case 'burst': {
        const f = forks(rng);
        for (let n = 0; n < entry.count; n++) {
          out(n, sampleDist(entry.at, f.arrivals), {
            runtimeMs: sampleDist(entry.runtime, f.runtime),
            vcpus: sampleChoice(entry.vcpus, f.vcpus),
            ram: sampleChoice(entry.ram, f.ram),
            gpu: entry.gpu,
            ...drawCommon(entry, f),
          });
        }
        break;
      }
      case 'list':
        entry.containers.forEach((c, n) => {
          // One stream per item, drawn in a fixed field order: items are few and hand-written.
          const r = rng.fork(String(n));
          const f = { start: r, arrivals: r, runtime: r, vcpus: r, ram: r, priority: r, preemptible: r, outcome: r };
          out(n, sampleDist(c.at, r), {
            runtimeMs: sampleDist(c.runtime, r),
            vcpus: sampleChoice(c.vcpus, r),
            ram: sampleChoice(c.ram, r),
            gpu: c.gpu,
            ...drawCommon(c, f),
          });
        });
        break;
      case 'swf': {
        const f = forks(rng);
        const text = readTrace(entry.path, i, opts);
        const { requests: jobs, skipped: skips } = traceStep(entry.path, i, () => {
          const parsed = parseSwf(text, entry.limit);
          return mapSwfJobs(parsed, {
            vcpusPerProcessor: entry.vcpusPerProcessor,
            maxVCPUs: entry.maxVCPUs ?? opts.largestTypeVCPUs,
            ramPerVCPU: entry.ramPerVCPU,
          });
        });
        if (Object.keys(skips).length > 0) skipped.push({ entry: i, path: entry.path, reasons: skips });
        const start = sampleDist(entry.start, f.start);
        jobs.forEach((j, n) =>
          out(
            n,
            start + j.submitMs,
            {
              runtimeMs: j.runtimeMs,
              vcpus: j.vcpus,
              ram: j.ram,
              gpu: entry.gpu,
              ...drawCommon(entry, f),
              ...(j.requestedTimeMs === undefined ? {} : { requestedTimeMs: j.requestedTimeMs }),
            },
            { line: j.job.line, job: j.job.job },
          ),
        );
        break;
      }
      case 'cluster-csv': {
        const f = forks(rng);
        const text = readTrace(entry.path, i, opts);
        const { requests: rows, skipped: skips } = traceStep(entry.path, i, () =>
          mapClusterCsvRows(parseClusterCsv(text, entry.limit), entry.maxVCPUs ?? opts.largestTypeVCPUs),
        );
        if (Object.keys(skips).length > 0) skipped.push({ entry: i, path: entry.path, reasons: skips });
        const start = sampleDist(entry.start, f.start);
        rows.forEach((r, n) =>
          out(
            n,
            start + r.submitMs,
            {
              runtimeMs: r.runtimeMs,
              vcpus: r.vcpus,
              ram: r.ram,
              gpu: r.gpus > 0 ? { ...entry.gpu, deviceCount: r.gpus } : null,
              ...drawCommon(entry, f),
            },
            { line: r.row.line, job: r.row.name },
          ),
        );
        break;
      }
    }
  });
  requests.sort((a, b) => a.submitAt - b.submitAt);
  return { requests, skipped };
}

interface Forks {
  readonly start: Rng;
  readonly arrivals: Rng;
  readonly runtime: Rng;
  readonly vcpus: Rng;
  readonly ram: Rng;
  readonly priority: Rng;
  readonly preemptible: Rng;
  readonly outcome: Rng;
}

function forks(rng: Rng): Forks {
  return {
    start: rng.fork('start'),
    arrivals: rng.fork('arrivals'),
    runtime: rng.fork('runtime'),
    vcpus: rng.fork('vcpus'),
    ram: rng.fork('ram'),
    priority: rng.fork('priority'),
    preemptible: rng.fork('preemptible'),
    outcome: rng.fork('outcome'),
  };
}

function drawCommon(c: CommonFields, f: Forks): Pick<ContainerRequestSpec, 'priority' | 'preemptible' | 'outcome' | 'keepCacheRam'> {
  return {
    priority: samplePriority(c.priority, f.priority),
    preemptible: sampleBool(c.preemptible, f.preemptible),
    outcome: sampleChoice(c.outcome, f.outcome),
    ...(c.keepCacheRam === undefined ? {} : { keepCacheRam: c.keepCacheRam }),
  };
}

function readTrace(path: string, entry: number, opts: GenerateOptions): string {
  const abs = isAbsolute(path) ? path : resolve(opts.scenarioDir, path);
  try {
    return (opts.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(abs);
  } catch (e) {
    throw new ScenarioError(`workload[${entry}].path`, `reading ${path}: ${(e as Error).message}`);
  }
}

/** Runs a trace parse step, turning format errors into scenario errors naming the file. */
function traceStep<T>(path: string, entry: number, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof TraceFormatError) throw new ScenarioError(`workload[${entry}].path`, `reading ${path}: ${e.message}`);
    throw e;
  }
}
