import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchRunError, plannedWorkers, runBatch, runJob, runPool, workerEntry } from './parallel.js';

// A stand-in worker speaking the pool's protocol: doubles numbers after a delay that makes
// replies arrive out of order; -1 fails as bad input, -2 kills the worker.
const ECHO_WORKER = `
import { parentPort, threadId } from 'node:worker_threads';
parentPort.on('message', ({ index, job }) => {
  if (job === -2) process.exit(3);
  setTimeout(() => {
    if (job === -1) parentPort.postMessage({ index, ok: false, badInput: true, message: 'job -1 is bad' });
    else parentPort.postMessage({ index, ok: true, value: { doubled: job * 2, thread: threadId } });
  }, (7 - (index % 7)) * 3);
});
`;

const SCENARIO = `
name: tiny-parallel
horizon: 6h
cluster:
  InstanceTypes:
    small: {ProviderType: m5.large, VCPUs: 2, RAM: 8GiB, Price: 0.1}
cloud: {bootTime: 45s}
workload:
  - {kind: poisson, count: 8, ratePerHour: 30, runtime: {median: 4m, p95: 10m}, vcpus: 1, ram: 2GiB}
`;

let dir = '';
let echo: URL;
let scenario = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-parallel-'));
  await writeFile(join(dir, 'echo-worker.mjs'), ECHO_WORKER);
  echo = pathToFileURL(join(dir, 'echo-worker.mjs'));
  scenario = join(dir, 'tiny.yaml');
  await writeFile(scenario, SCENARIO);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runPool', () => {
  it('runs every job once on the workers and hands results back by job index', async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => i);
    const got = new Map<number, number>();
    const threads = new Set<number>();
    await runPool<number, { doubled: number; thread: number }>(echo, jobs, 3, (i, v) => {
      expect(got.has(i)).toBe(false);
      got.set(i, v.doubled);
      threads.add(v.thread);
    });
    expect([...got.entries()].sort((a, b) => a[0] - b[0])).toEqual(jobs.map((j) => [j, j * 2]));
    expect(threads.size).toBe(3);
  });

  it('rejects with the first failed job, keeping whether it was bad input', async () => {
    const err = await runPool<number, unknown>(echo, [1, 2, -1, 4], 2, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchRunError);
    expect(err).toMatchObject({ job: 2, badInput: true, message: 'job -1 is bad' });
  });

  it('rejects when a worker dies', async () => {
    const err = await runPool<number, unknown>(echo, [1, -2, 3], 2, () => {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ badInput: false, message: 'scenario worker exited with code 3' });
  });

  it('resolves at once for no jobs', async () => {
    await expect(runPool(echo, [], 4, () => {})).resolves.toBeUndefined();
  });
});

describe('runBatch', () => {
  it('runs in process when this module is TypeScript source (tests): no stale dist/', () => {
    expect(workerEntry()).toBeNull();
    expect(plannedWorkers(10, 8)).toBe(0);
  });

  it('gives the same results in job order whatever ran before (no state shared between runs)', async () => {
    const jobs = [
      { file: scenario, options: { seed: 1 } },
      { file: scenario, options: { seed: 2 } },
      { file: scenario, options: { seed: 1 } },
    ];
    const progress: string[] = [];
    const out = await runBatch(jobs, { onResult: (i, r) => ({ i, r }), onProgress: (d, t) => progress.push(`${d}/${t}`) });
    expect(out.map((o) => o.i)).toEqual([0, 1, 2]);
    expect(progress).toEqual(['1/3', '2/3', '3/3']);
    const strip = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'wallSeconds' ? 0 : typeof v === 'bigint' ? String(v) : v))) as unknown;
    expect(strip(out[2]!.r.summary)).toEqual(strip(out[0]!.r.summary));
    expect(strip(out[2]!.r.rows)).toEqual(strip(out[0]!.r.rows));
    expect(out[0]!.r.summary.seed).toBe(1);
    expect(out[1]!.r.summary.seed).toBe(2);
    const alone = await runJob(jobs[1]!);
    expect(strip(alone.rows)).toEqual(strip(out[1]!.r.rows));
  });

  it('reports an invalid scenario as bad input', async () => {
    const err = await runJob({ file: join(dir, 'missing.yaml'), options: {} }, 4).catch((e: unknown) => e);
    expect(err).toMatchObject({ job: 4, badInput: true });
    expect((err as Error).message).toMatch(/missing\.yaml: cannot read the scenario/);
  });
});
