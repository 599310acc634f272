import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { generateWorkloadReport } from './generate.js';
import { readWorkload } from './schema.js';
import { mapSwfJobs, parseSwf } from './swf.js';
import { TraceFormatError } from './trace-error.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const traces = join(repoRoot, '..', 'shared', 'traces');
const GiB = 1024 ** 3;

function generate(entry: Record<string, unknown>, largestTypeVCPUs = 96) {
  return generateWorkloadReport(readWorkload([entry]), { rng: new SeededRng('1').fork('workload'), scenarioDir: traces, largestTypeVCPUs });
}

describe.runIf(existsSync(traces) || process.env.CI !== undefined)('SWF import of the shared traces', () => {
  it('theta_1000.swf: 1000 jobs, submit times from the first job, VCPUs capped at the largest type', () => {
    const { requests, skipped } = generate({ kind: 'swf', path: 'theta_1000.swf' });
    expect(requests).toHaveLength(1000);
    expect(skipped).toEqual([]);
    expect(requests[0]).toMatchObject({ id: 'w0-0', submitAt: 0, runtimeMs: 10_849_000, vcpus: 96, ram: 96 * 2 * GiB, priority: 500n, outcome: 'complete', requestedTimeMs: 10_800_000 });
    expect(requests[0]!.source).toEqual({ entry: 0, kind: 'swf', line: 4, job: '1' });
    expect(requests[1]).toMatchObject({ id: 'w0-1', submitAt: 1_176_000, runtimeMs: 12_696_000, vcpus: 96 });
    expect(requests[999]).toMatchObject({ id: 'w0-999', submitAt: 661_232_000, runtimeMs: 60_000, vcpus: 96 });
    expect(requests.every((r) => r.gpu === null && !r.preemptible)).toBe(true);
  });

  it('theta_1000.swf with vcpusPerProcessor 0.25, a cap, RAM per VCPU and a limit', () => {
    const { requests } = generate({ kind: 'swf', path: 'theta_1000.swf', limit: 10, vcpusPerProcessor: 0.25, maxVCPUs: 128, ramPerVCPU: '4GiB' });
    expect(requests).toHaveLength(10);
    expect(requests.slice(0, 4).map((r) => [r.vcpus, r.ram / GiB])).toEqual([
      [32, 128],
      [128, 512], // 640 processors x 0.25 = 160, capped at 128
      [64, 256],
      [128, 512],
    ]);
  });

  it('lublin_256.swf: 10,000 jobs with exact mapped jobs at both ends', () => {
    const { requests, skipped } = generate({ kind: 'swf', path: 'lublin_256.swf', ramPerVCPU: '1GiB' });
    expect(requests).toHaveLength(10_000);
    expect(skipped).toEqual([]);
    const byJob = new Map(requests.map((r) => [r.source.job, r]));
    expect(byJob.get('1')).toMatchObject({ submitAt: 0, runtimeMs: 12_072_000, vcpus: 16, ram: 16 * GiB });
    expect(byJob.get('2')).toMatchObject({ submitAt: 76_000, runtimeMs: 2_000, vcpus: 1, ram: GiB });
    expect(byJob.get('4')).toMatchObject({ vcpus: 96, ram: 96 * GiB }); // 128 processors, capped
    expect(byJob.get('10000')).toMatchObject({ submitAt: 7_706_607_000, runtimeMs: 13_929_000, vcpus: 3 });
    expect(byJob.get('1')!.requestedTimeMs).toBeUndefined();
    for (let i = 1; i < requests.length; i++) expect(requests[i]!.submitAt).toBeGreaterThanOrEqual(requests[i - 1]!.submitAt);
  });

  it('accasim_workload.swf (headerless, float fields): memory KB per processor, scaled with the VCPU cap', () => {
    const { requests, skipped } = generate({ kind: 'swf', path: 'accasim_workload.swf' }, 24);
    expect(requests).toHaveLength(25);
    expect(skipped).toEqual([]);
    const byJob = new Map(requests.map((r) => [r.source.job, r]));
    // Requested memory 819200 KB per processor x 16 processors.
    expect(byJob.get('184')).toMatchObject({ submitAt: 0, runtimeMs: 61_000, vcpus: 16, ram: 819_200 * 1024 * 16, requestedTimeMs: 43_200_000 });
    // Used memory 25600 KB per processor x 36 processors, capped to 24 VCPUs: RAM scaled by 24/36.
    expect(byJob.get('5414')).toMatchObject({ submitAt: (3_801_279 - 561_553) * 1000, runtimeMs: 26_614_000, vcpus: 24, ram: 25_600 * 1024 * 24 });
    // The line with a float average-CPU field.
    expect(byJob.get('5664')).toMatchObject({ runtimeMs: 18_000, vcpus: 24, ram: 37_888 * 1024 * 24 });
    expect(byJob.get('5682')).toMatchObject({ vcpus: 1, ram: 921_600 * 1024 });
  });

  it('parses the traces the same way directly', () => {
    const jobs = parseSwf(readFileSync(join(traces, 'lublin_256.swf'), 'utf8'), 3);
    expect(jobs.map((j) => [j.line, j.job, j.submit, j.runTime, j.allocatedProcessors, j.status])).toEqual([
      [8, '1', 5094, 12072, 16, 1],
      [9, '2', 5170, 2, 1, 1],
      [10, '3', 6742, 24089, 1, 1],
    ]);
  });
});

describe('SWF parsing rules', () => {
  const line = (fields: (number | string)[]) => fields.join(' ');
  const job = (n: number, submit: number | string, run: number | string, alloc: number | string, req: number | string, usedMem: number | string = -1, reqMem: number | string = -1) =>
    line([n, submit, -1, run, alloc, -1, usedMem, req, 3600, reqMem, 1, -1, -1, -1, -1, -1, -1, -1]);

  it('skips and counts jobs without a run time, processors or submit time; falls back to requested processors', () => {
    const text = ['; header', '', job(1, 100, 10, 4, 4), job(2, 110, -1, 4, 4), job(3, 120, 5, -1, 8), job(4, 130, 5, 0, -1), job(5, -1, 5, 2, 2), job(6, 90.5, 1.5, 2.5, -1)].join('\r\n');
    const { requests, skipped } = mapSwfJobs(parseSwf(text), { vcpusPerProcessor: 1, maxVCPUs: 64, ramPerVCPU: 1000 });
    expect(skipped).toEqual({ 'no run time': 1, 'no processor count': 1, 'no submit time': 1 });
    expect(requests.map((r) => [r.job.job, r.submitMs, r.runtimeMs, r.vcpus, r.ram])).toEqual([
      ['1', 9500, 10_000, 4, 4000],
      ['3', 29_500, 5000, 8, 8000],
      ['6', 0, 1500, 3, 3000],
    ]);
  });

  it('limit counts job records, not comment lines', () => {
    const text = [job(1, 0, 1, 1, 1), '; comment', job(2, 1, 1, 1, 1), job(3, 2, 1, 1, 1)].join('\n');
    expect(parseSwf(text, 2).map((j) => j.job)).toEqual(['1', '2']);
  });

  it('rejects a malformed line with its line number', () => {
    expect(() => parseSwf(['; h', job(1, 0, 1, 1, 1), '2 5 -1 10 4'].join('\n'))).toThrow(new TraceFormatError(3, 'expected 18 whitespace-separated fields, got 5'));
    expect(() => parseSwf(job(7, 0, 'ten', 1, 1))).toThrow(/^line 1: field 4 \(run time\) is not a number: "ten"$/);
  });

  it('reports a malformed trace through the scenario path with the file name', () => {
    const entries = readWorkload([{ kind: 'swf', path: 'bad.swf' }]);
    const run = (text: string) => generateWorkloadReport(entries, { rng: new SeededRng('1'), scenarioDir: '/scenarios', largestTypeVCPUs: 8, readFile: () => text });
    expect(() => run(`${job(1, 0, 1, 1, 1)}\n1 2 3`)).toThrow('workload[0].path: reading bad.swf: line 2: expected 18 whitespace-separated fields, got 3');
    const missing = readWorkload([{ kind: 'swf', path: 'no-such-trace.swf' }]);
    expect(() => generateWorkloadReport(missing, { rng: new SeededRng('1'), scenarioDir: repoRoot, largestTypeVCPUs: 8 })).toThrow(/^workload\[0\]\.path: reading no-such-trace\.swf: ENOENT/);
  });
});
