// The whole simulator on a real trace: the Lublin-Feitelson log (10,000 jobs over 89 days)
// replayed through the production core with probes, polls and syncs at Arvados' default
// intervals, plus the quickstart scenario. One replay takes tens of seconds: run it alone
// with `npm run bench -- --only simulator --repeat 3 --warmup 0`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenario } from '../sim/runner/run-scenario.js';
import type { Summary } from '../sim/runner/summary.js';
import { loadScenarioFile, parseScenario, type Scenario } from '../sim/scenario/scenario.js';
import type { Benchmark, BenchRow } from './benchmark.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const TRACES = join(repoRoot, '..', 'shared', 'traces');
const LUBLIN = 'lublin_256.swf';
const LUBLIN_JOBS = 10_000;
const DAY_S = 86_400;

/** The replay: six m5 sizes, up to 500 instances, 90 s median boot, everything else default. */
export function lublinScenario(tracesDir: string = TRACES): Scenario {
  const doc = {
    name: 'lublin-replay',
    horizon: '200d',
    cluster: {
      Containers: { CloudVMs: { MaxInstances: 500 } },
      InstanceTypes: {
        'm5.large': { VCPUs: 2, RAM: '8GiB', IncludedScratch: '32GB', Price: 0.096 },
        'm5.xlarge': { VCPUs: 4, RAM: '16GiB', IncludedScratch: '64GB', Price: 0.192 },
        'm5.2xlarge': { VCPUs: 8, RAM: '32GiB', IncludedScratch: '128GB', Price: 0.384 },
        'm5.4xlarge': { VCPUs: 16, RAM: '64GiB', IncludedScratch: '256GB', Price: 0.768 },
        'm5.8xlarge': { VCPUs: 32, RAM: '128GiB', IncludedScratch: '512GB', Price: 1.536 },
        'm5.16xlarge': { VCPUs: 64, RAM: '256GiB', IncludedScratch: '1TB', Price: 3.072 },
      },
    },
    cloud: { bootTime: { median: '90s', p95: '4m' } },
    // The path is relative to the scenario's directory: the shared traces, never a copy.
    workload: [{ kind: 'swf', path: LUBLIN, vcpusPerProcessor: 0.25, ramPerVCPU: '2GiB' }],
  };
  return parseScenario(doc, tracesDir);
}

/** Throws unless the run did all its work cleanly, so a run that stops early cannot look fast. */
function checkComplete(what: string, s: Summary, jobs: number): void {
  const c = s.containers;
  if (c.total !== jobs || c.complete !== jobs || s.invariantViolations.length > 0) {
    throw new Error(
      `benchmarking ${what}: expected ${jobs} containers complete and no invariant violations, ` +
        `got ${c.complete} of ${c.total} complete and ${s.invariantViolations.length} violations`,
    );
  }
}

function figures(s: Summary): Record<string, number> {
  return {
    'wall s': s.wallSeconds,
    events: s.events,
    'events/s': s.events / s.wallSeconds,
    'simulated days/wall s': s.simulatedSeconds / DAY_S / s.wallSeconds,
  };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'simulator',
    description: 'lublin_256 trace replay (10,000 jobs, 89 days) and the quickstart scenario, wall time and events/s',
    run: async () => {
      const rows: BenchRow[] = [];
      if (!existsSync(join(TRACES, LUBLIN))) throw new Error(`benchmarking the simulator: no trace at ../shared/traces/${LUBLIN}`);
      const replay = await runScenario(lublinScenario());
      checkComplete('the lublin replay', replay.summary, LUBLIN_JOBS);
      rows.push({ case: 'lublin_256 replay, 10,000 jobs, default intervals', figures: figures(replay.summary) });

      const quick = await runScenario(loadScenarioFile(join(repoRoot, 'scenarios', 'quickstart.yaml')));
      checkComplete('quickstart', quick.summary, quick.summary.containers.total);
      rows.push({ case: 'scenarios/quickstart.yaml', figures: { 'wall s': quick.summary.wallSeconds, events: quick.summary.events } });
      return rows;
    },
  },
];
