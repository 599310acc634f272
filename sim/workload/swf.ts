import { countSkip, lines, TraceFormatError, type SkipCounts } from './trace-error.js';

/**
 * Standard Workload Format (Parallel Workloads Archive, v2.2): one job per line, 18
 * whitespace-separated numeric fields, `;` starts a header comment line, -1 = unknown.
 * https://www.cs.huji.ac.il/labs/parallel/workload/swf.html
 *
 * Interpretation (documented in docs/workloads.md):
 * - any negative value is "unknown" (the standard says -1; some converted logs write -1.00);
 * - float values are accepted in every field (some logs have fractional CPU times);
 * - memory fields (7 used, 10 requested) are KB per processor, as the standard says; we
 *   prefer the requested memory (what the job asked for, like a container's
 *   runtime_constraints.ram) and fall back to the used memory.
 */

const FIELD_NAMES = [
  'job number',
  'submit time',
  'wait time',
  'run time',
  'allocated processors',
  'average CPU time',
  'used memory',
  'requested processors',
  'requested time',
  'requested memory',
  'status',
  'user',
  'group',
  'executable',
  'queue',
  'partition',
  'preceding job',
  'think time',
] as const;

/** One job record; times in seconds, memory in KB per processor; -1 (or any negative) = unknown. */
export interface SwfJob {
  /** 1-based line in the file. */
  readonly line: number;
  readonly job: string;
  readonly submit: number;
  readonly runTime: number;
  readonly allocatedProcessors: number;
  readonly requestedProcessors: number;
  readonly usedMemoryKB: number;
  readonly requestedMemoryKB: number;
  readonly requestedTime: number;
  /** 1 completed, 0 failed, 5 cancelled (others exist in some logs). */
  readonly status: number;
}

/**
 * Reads job records, at most `limit` of them (comment and blank lines do not count).
 * @throws TraceFormatError (with the 1-based line) for a line that is not 18 numbers.
 */
export function parseSwf(text: string, limit = Infinity): SwfJob[] {
  const jobs: SwfJob[] = [];
  for (const { line, text: raw } of lines(text)) {
    if (jobs.length >= limit) break;
    const s = raw.trim();
    if (s === '' || s.startsWith(';')) continue;
    const tokens = s.split(/\s+/);
    if (tokens.length !== FIELD_NAMES.length) {
      throw new TraceFormatError(line, `expected ${FIELD_NAMES.length} whitespace-separated fields, got ${tokens.length}`);
    }
    const f = tokens.map((t, i) => {
      const v = Number(t);
      if (!Number.isFinite(v)) throw new TraceFormatError(line, `field ${i + 1} (${FIELD_NAMES[i]}) is not a number: ${JSON.stringify(t)}`);
      return v;
    });
    jobs.push({
      line,
      job: tokens[0]!,
      submit: f[1]!,
      runTime: f[3]!,
      allocatedProcessors: f[4]!,
      usedMemoryKB: f[6]!,
      requestedProcessors: f[7]!,
      requestedTime: f[8]!,
      requestedMemoryKB: f[9]!,
      status: f[10]!,
    });
  }
  return jobs;
}

export interface SwfMapping {
  readonly vcpusPerProcessor: number;
  readonly maxVCPUs: number;
  /** Bytes of RAM per VCPU when the job gives no memory. */
  readonly ramPerVCPU: number;
}

/** A job as a container request's resources; times ms, RAM bytes. */
export interface SwfRequest {
  readonly job: SwfJob;
  /** From the earliest known submit time among the jobs given. */
  readonly submitMs: number;
  readonly runtimeMs: number;
  readonly vcpus: number;
  readonly ram: number;
  readonly requestedTimeMs?: number;
}

export const SWF_SKIP_NO_SUBMIT = 'no submit time';
export const SWF_SKIP_NO_RUNTIME = 'no run time';
export const SWF_SKIP_NO_PROCESSORS = 'no processor count';

/**
 * Maps jobs to request resources:
 * - processors: allocated, else requested; VCPUs = ceil(processors x vcpusPerProcessor),
 *   at least 1, capped at maxVCPUs;
 * - RAM: memory KB per processor x 1024 x processors, scaled down by the same factor as the
 *   VCPUs when they were capped (keeps the job's RAM per VCPU); without memory fields,
 *   VCPUs x ramPerVCPU;
 * - skipped and counted: jobs without a submit time, a run time or a processor count.
 */
export function mapSwfJobs(jobs: readonly SwfJob[], m: SwfMapping): { requests: SwfRequest[]; skipped: SkipCounts } {
  const skipped: SkipCounts = {};
  let base = Infinity;
  for (const j of jobs) if (j.submit >= 0 && j.submit < base) base = j.submit;
  const requests: SwfRequest[] = [];
  for (const j of jobs) {
    if (j.submit < 0) {
      countSkip(skipped, SWF_SKIP_NO_SUBMIT);
      continue;
    }
    if (j.runTime < 0) {
      countSkip(skipped, SWF_SKIP_NO_RUNTIME);
      continue;
    }
    const procs = j.allocatedProcessors > 0 ? j.allocatedProcessors : j.requestedProcessors > 0 ? j.requestedProcessors : -1;
    if (procs < 0) {
      countSkip(skipped, SWF_SKIP_NO_PROCESSORS);
      continue;
    }
    // Round away float noise (3 x 0.1 = 0.30000000000000004) before taking the ceiling.
    const rawVcpus = Math.max(1, Math.ceil(Math.round(procs * m.vcpusPerProcessor * 1e6) / 1e6));
    const vcpus = Math.min(rawVcpus, m.maxVCPUs);
    const memKB = j.requestedMemoryKB > 0 ? j.requestedMemoryKB : j.usedMemoryKB > 0 ? j.usedMemoryKB : -1;
    const ram = memKB > 0 ? Math.max(1, Math.round(memKB * 1024 * procs * (vcpus / rawVcpus))) : vcpus * m.ramPerVCPU;
    requests.push({
      job: j,
      submitMs: Math.round((j.submit - base) * 1000),
      runtimeMs: Math.round(j.runTime * 1000),
      vcpus,
      ram,
      ...(j.requestedTime >= 0 ? { requestedTimeMs: Math.round(j.requestedTime * 1000) } : {}),
    });
  }
  return { requests, skipped };
}
