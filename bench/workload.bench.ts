import { SeededRng } from '../core/domain/seeded-rng.js';
import { generateWorkload } from '../sim/workload/generate.js';
import { readWorkload } from '../sim/workload/schema.js';
import { measure, perSecond, type Benchmark, type BenchRow } from './benchmark.js';

/** Synthetic poisson requests at the design scale (100,000 queued containers). */
async function poisson(count: number): Promise<BenchRow> {
  const entries = readWorkload([
    {
      kind: 'poisson',
      count,
      ratePerHour: 20_000,
      runtime: { median: '20m', p95: '2h' },
      vcpus: [1, 2, 4, 8],
      ram: { '2GiB': 3, '8GiB': 2, '30GiB': 1 },
      priority: [1, 1000],
      preemptible: 0.3,
      outcome: { complete: 0.95, fail: 0.05 },
    },
  ]);
  let n = 0;
  const ms = await measure(() => {
    n = generateWorkload(entries, { rng: new SeededRng('bench').fork('workload'), scenarioDir: '.', largestTypeVCPUs: 96 }).length;
  });
  if (n !== count) throw new Error(`workload benchmark: generated ${n} of ${count}`);
  return { case: `${count / 1000}k poisson requests`, figures: { 'requests/s': perSecond(count, ms), 'wall ms': ms } };
}

/** An in-memory SWF log of `jobs` lines, parsed and mapped (file reading left out). */
async function swf(jobs: number): Promise<BenchRow> {
  const rng = new SeededRng('bench/swf');
  const lines = ['; synthetic'];
  let t = 0;
  for (let j = 1; j <= jobs; j++) {
    t += rng.int(0, 600);
    const procs = 2 ** rng.int(0, 8);
    lines.push(`${j} ${t} -1 ${rng.int(1, 86_400)} ${procs} -1 ${rng.int(1, 4) * 262_144} ${procs} 86400 -1 1 -1 -1 -1 0 -1 -1 -1`);
  }
  const text = lines.join('\n');
  const entries = readWorkload([{ kind: 'swf', path: 'synthetic.swf' }]);
  let n = 0;
  const ms = await measure(() => {
    n = generateWorkload(entries, { rng: new SeededRng('bench'), scenarioDir: '.', largestTypeVCPUs: 96, readFile: () => text }).length;
  });
  if (n !== jobs) throw new Error(`workload benchmark: imported ${n} of ${jobs} SWF jobs`);
  return { case: `${jobs / 1000}k SWF jobs`, figures: { 'jobs/s': perSecond(jobs, ms), 'wall ms': ms } };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'workload',
    description: 'workload generation and trace import (sim/workload)',
    run: async () => [await poisson(100_000), await swf(100_000)],
  },
];
