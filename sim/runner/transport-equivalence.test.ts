import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../../core/domain/json.js';
import { loadScenarioFile, parseScenario, type Scenario } from '../scenario/scenario.js';
import { runScenario } from './run-scenario.js';
import { sshTransport } from './ssh-transport.js';
import { containersCsv } from './summary.js';

/** Small scenarios: every worker command goes over real SSH with the ssh transport. */
function small(name: string, faults: unknown[] = []) {
  return parseScenario(
    {
      name,
      seed: 3,
      horizon: '6h',
      cluster: {
        Containers: { CloudVMs: { MaxInstances: 4, TimeoutIdle: '2m' } },
        InstanceTypes: {
          'm5.large': { VCPUs: 2, RAM: '8GiB', IncludedScratch: '32GB', Price: 0.096 },
          'm5.xlarge': { VCPUs: 4, RAM: '16GiB', IncludedScratch: '64GB', Price: 0.192 },
        },
      },
      cloud: { bootTime: { median: '90s', p95: '3m' }, createFailureRate: 0.1 },
      workload: [{ kind: 'poisson', count: 12, ratePerHour: 30, runtime: { median: '8m', p95: '20m' }, vcpus: [1, 2, 4], ram: ['2GiB', '6GiB'] }],
      faults,
    },
    '.',
  );
}

// `events` counts engine timers, which include the SSH executor's own (command timeouts).
const comparable = (s: object) => stringifyJson({ ...s, wallSeconds: 0, transport: '', events: 0 });

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

async function expectSameDecisions(scenario: Scenario): Promise<void> {
  const direct = await runScenario(scenario);
  const ssh = await runScenario(scenario, { transport: sshTransport() });
  expect(ssh.summary.transport).toBe('ssh');
  expect(ssh.summary.invariantViolations).toEqual([]);
  expect(comparable(ssh.summary)).toBe(comparable(direct.summary));
  expect(containersCsv(ssh.rows)).toBe(containersCsv(direct.rows));
}

describe('direct and ssh transports make the same decisions', () => {
  it.each([
    ['plain', small('plain')],
    [
      'with faults',
      small('faults', [
        { at: '20m', kind: 'dispatcher-restart' },
        { at: '30m', kind: 'ssh-partition', count: 1, for: '3m' },
        { at: '40m', kind: 'kill-instances', count: 1 },
      ]),
    ],
  ])('%s', async (_name, scenario) => {
    await expectSameDecisions(scenario);
  }, 120_000);

  // Mid-size: 120 containers on up to 20 VMs, some of which boot before the pool's next
  // listing, so their first probes run with the target the pool handed the executor
  // factory (a direct executor that waited for setTarget probed them 20 s later).
  it('quickstart', async () => {
    await expectSameDecisions(loadScenarioFile(join(repoRoot, 'scenarios', 'quickstart.yaml')));
  }, 180_000);
});
