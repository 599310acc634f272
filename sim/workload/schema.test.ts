import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { ScenarioError } from '../scenario/scenario-error.js';
import { readWorkload } from './schema.js';

const GiB = 1024 ** 3;

/** The workload block of CONTRACTS.md section 2, verbatim. */
const CONTRACT_EXAMPLE = `
workload:
  - {kind: poisson, count: 500, ratePerHour: 200, runtime: {median: 20m, p95: 2h},
     vcpus: [1, 2, 4, 8], ram: [2GiB, 8GiB, 30GiB], priority: [1, 1000], preemptible: 0.3}
  - {kind: burst, at: 2h, count: 300, runtime: 10m, vcpus: 4, ram: 16GiB}
  - {kind: list, containers: [{at: 0s, runtime: 5m, vcpus: 2, ram: 4GiB, priority: 10,
                               gpu: {stack: cuda, device_count: 1, hardware_target: ["8.0"],
                                     driver_version: "11.0", vram: 16GiB}, outcome: complete}]}
  - {kind: swf, path: traces/x.swf, limit: 1000, vcpusPerProcessor: 1, maxVCPUs: 96,
     ramPerVCPU: 2GiB}
  - {kind: cluster-csv, path: pods.csv, limit: 5000,
     gpu: {stack: cuda, hardware_target: ["7.0"], driver_version: "11.0", vram: 0}}
`;

function errorOf(raw: unknown): { path: string; message: string } {
  try {
    readWorkload(raw);
  } catch (e) {
    if (e instanceof ScenarioError) return { path: e.path, message: e.message };
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

describe('workload schema', () => {
  it('reads the example of the contract', () => {
    const entries = readWorkload((parse(CONTRACT_EXAMPLE) as { workload: unknown }).workload);
    expect(entries.map((e) => e.kind)).toEqual(['poisson', 'burst', 'list', 'swf', 'cluster-csv']);
    expect(entries[0]).toMatchObject({
      count: 500,
      ratePerHour: 200,
      runtime: { kind: 'lognormal', median: 20 * 60_000, p95: 2 * 3_600_000 },
      vcpus: { kind: 'uniform', values: [1, 2, 4, 8] },
      ram: { kind: 'uniform', values: [2 * GiB, 8 * GiB, 30 * GiB] },
      priority: { lo: 1n, hi: 1000n },
      preemptible: 0.3,
      outcome: { kind: 'fixed', value: 'complete' },
      gpu: null,
    });
    expect(entries[1]).toMatchObject({ at: { kind: 'fixed', value: 7_200_000 }, count: 300, vcpus: { kind: 'fixed', value: 4 }, priority: { lo: 500n, hi: 500n } });
    expect(entries[2]).toMatchObject({
      containers: [{ priority: { lo: 10n, hi: 10n }, gpu: { stack: 'cuda', deviceCount: 1, hardwareTarget: ['8.0'], driverVersion: '11.0', vram: 16 * GiB } }],
    });
    expect(entries[3]).toMatchObject({ path: 'traces/x.swf', limit: 1000, vcpusPerProcessor: 1, maxVCPUs: 96, ramPerVCPU: 2 * GiB });
    expect(entries[4]).toMatchObject({ path: 'pods.csv', limit: 5000, gpu: { stack: 'cuda', hardwareTarget: ['7.0'], driverVersion: '11.0', vram: 0 } });
  });

  it('reads weighted maps, outcome mixes, big priorities and boolean preemptible', () => {
    const [e] = readWorkload(
      parse(`
- kind: burst
  at: {median: 1h, p95: 3h}
  count: 10
  runtime: 1m
  vcpus: {1: 3, 16: 1}
  ram: {2GiB: 1, 64GiB: 0.5}
  outcome: {complete: 0.9, fail: 0.05, hang: 0.05}
  priority: ["999999999999999990", "999999999999999999"]
  preemptible: true
  keepCacheRam: 1GiB
`),
    );
    expect(e).toMatchObject({
      vcpus: { kind: 'weighted', values: [1, 16], weights: [3, 1] },
      ram: { kind: 'weighted', values: [2 * GiB, 64 * GiB], weights: [1, 0.5] },
      outcome: { kind: 'weighted', values: ['complete', 'fail', 'hang'] },
      priority: { lo: 999999999999999990n, hi: 999999999999999999n },
      preemptible: 1,
      keepCacheRam: GiB,
    });
  });

  it.each([
    [{}, 'workload', 'expected a list'],
    [[{ kind: 'poison', count: 1 }], 'workload[0].kind', 'expected one of poisson, burst, list, swf, cluster-csv'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: 1, ram: '1GiB', colour: 'red' }], 'workload[0].colour', 'unknown key'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: 1, ram: '1GiB', path: 'x' }], 'workload[0].path', 'unknown key'],
    [[{ kind: 'burst', at: '1h', count: 1, vcpus: 1, ram: '1GiB' }], 'workload[0].runtime', 'required'],
    [[{ kind: 'poisson', count: 1, ratePerHour: 0, runtime: '1m', vcpus: 1, ram: '1GiB' }], 'workload[0].ratePerHour', 'above 0'],
    [[{ kind: 'poisson', count: 1.5, ratePerHour: 1, runtime: '1m', vcpus: 1, ram: '1GiB' }], 'workload[0].count', 'whole number'],
    [[{}, { kind: 'burst', at: '1h', count: 1, runtime: 5, vcpus: 1, ram: '1GiB' }], 'workload[0].kind', 'expected one of'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: 5, vcpus: 1, ram: '1GiB' }], 'workload[0].runtime', 'expected a duration'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: { median: '2h', p95: '1h' }, vcpus: 1, ram: '1GiB' }], 'workload[0].runtime.p95', 'at least the median'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: { median: '2h' }, vcpus: 1, ram: '1GiB' }], 'workload[0].runtime.p95', 'required'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: [1, 'two'], ram: '1GiB' }], 'workload[0].vcpus[1]', 'expected a number'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: [], ram: '1GiB' }], 'workload[0].vcpus', 'non-empty list'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: 1, ram: { '1GiB': -1 } }], 'workload[0].ram.1GiB', 'weight'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: 1, ram: '1 lots' }], 'workload[0].ram', 'expected a size'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: 1, ram: '1GiB', priority: [5, 1] }], 'workload[0].priority', 'lo <= hi'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: 1, ram: '1GiB', priority: 0 }], 'workload[0].priority', 'priority >= 1'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: 1, ram: '1GiB', preemptible: 1.5 }], 'workload[0].preemptible', 'probability'],
    [[{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: 1, ram: '1GiB', outcome: 'crash' }], 'workload[0].outcome', 'complete, fail, hang'],
    [[{ kind: 'list', containers: [{ runtime: '1m', vcpus: 1, ram: '1GiB', gpu: { stack: 'cuda', hardware_target: [8.0] } }] }], 'workload[0].containers[0].gpu.hardware_target[0]', 'quote it'],
    [[{ kind: 'list', containers: [{ runtime: '1m', vcpus: 1, ram: '1GiB', gpu: { device_count: 1 } }] }], 'workload[0].containers[0].gpu.stack', 'required'],
    [[{ kind: 'list', containers: [{ runtime: '1m', vcpus: 1, ram: '1GiB', count: 3 }] }], 'workload[0].containers[0].count', 'unknown key'],
    [[{ kind: 'swf' }], 'workload[0].path', 'required'],
    [[{ kind: 'swf', path: 'x.swf', vcpusPerProcessor: 0 }], 'workload[0].vcpusPerProcessor', 'above 0'],
    [[{ kind: 'cluster-csv', path: 'x.csv', gpu: { stack: 'cuda', device_count: 2 } }], 'workload[0].gpu.device_count', 'unknown key'],
  ])('rejects %j at %s', (raw, path, message) => {
    const err = errorOf(raw);
    expect(err.path).toBe(path);
    expect(err.message).toContain(message);
  });
});

describe('workload schema messages', () => {
  it('lists the keys of the entry kind for an unknown key', () => {
    expect(errorOf([{ kind: 'burst', at: '1h', count: 1, runtime: '1m', vcpus: 1, ram: '1GiB', colour: 'red' }]).message).toBe(
      'workload[0].colour: unknown key (expected one of: kind, priority, preemptible, outcome, keepCacheRam, at, count, runtime, vcpus, ram, gpu)',
    );
    expect(errorOf(['poisson']).message).toBe('workload[0]: expected a map, got string "poisson"');
  });
});
