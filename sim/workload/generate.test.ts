import { describe, it, expect } from 'vitest';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { generateWorkload } from './generate.js';
import { readWorkload } from './schema.js';

const GiB = 1024 ** 3;
const poisson = { kind: 'poisson', count: 400, ratePerHour: 200, runtime: { median: '20m', p95: '2h' }, vcpus: [1, 2, 4, 8], ram: [2 * GiB, 8 * GiB], priority: [1, 1000], preemptible: 0.3 };
const burst = { kind: 'burst', at: '2h', count: 50, runtime: '10m', vcpus: 4, ram: '16GiB', outcome: { complete: 8, fail: 1, hang: 1 } };

function gen(raw: unknown[], seed = '1') {
  return generateWorkload(readWorkload(raw), { rng: new SeededRng(seed).fork('workload'), scenarioDir: '.', largestTypeVCPUs: 96 });
}

describe('generateWorkload', () => {
  it('is deterministic for a seed and changes with the seed', () => {
    expect(gen([poisson, burst])).toEqual(gen([poisson, burst]));
    expect(gen([poisson]).map((r) => r.submitAt)).not.toEqual(gen([poisson], '2').map((r) => r.submitAt));
  });

  it('sorts by submit time, stably, with stable ids per entry', () => {
    const reqs = gen([poisson, burst, { kind: 'list', containers: [{ at: '2h', runtime: '1m', vcpus: 1, ram: '1GiB' }] }]);
    expect(reqs).toHaveLength(451);
    for (let i = 1; i < reqs.length; i++) expect(reqs[i]!.submitAt).toBeGreaterThanOrEqual(reqs[i - 1]!.submitAt);
    const at2h = reqs.filter((r) => r.submitAt === 7_200_000).map((r) => r.id);
    expect(at2h).toEqual([...Array.from({ length: 50 }, (_, n) => `w1-${n}`), 'w2-0']);
    expect(new Set(reqs.map((r) => r.id)).size).toBe(451);
  });

  it('draws Poisson arrivals at the given rate and values from the given sets', () => {
    const reqs = gen([{ ...poisson, count: 2000 }]);
    const last = reqs[reqs.length - 1]!.submitAt;
    expect(2000 / (last / 3_600_000)).toBeGreaterThan(180);
    expect(2000 / (last / 3_600_000)).toBeLessThan(220);
    expect(new Set(reqs.map((r) => r.vcpus))).toEqual(new Set([1, 2, 4, 8]));
    expect(reqs.every((r) => r.priority >= 1n && r.priority <= 1000n && r.gpu === null && r.outcome === 'complete')).toBe(true);
    const preemptible = reqs.filter((r) => r.preemptible).length / 2000;
    expect(preemptible).toBeGreaterThan(0.25);
    expect(preemptible).toBeLessThan(0.35);
  });

  it('adding an entry, or changing one field, leaves the other draws unchanged', () => {
    const alone = gen([poisson]);
    const withBurst = gen([poisson, burst]).filter((r) => r.source.entry === 0);
    expect(withBurst).toEqual(alone);
    const otherVcpus = gen([{ ...poisson, vcpus: 16 }]);
    expect(otherVcpus.map((r) => [r.submitAt, r.runtimeMs, r.ram, r.priority, r.preemptible])).toEqual(
      alone.map((r) => [r.submitAt, r.runtimeMs, r.ram, r.priority, r.preemptible]),
    );
  });

  it('builds list containers as written, with GPU requests', () => {
    const [r] = gen([
      {
        kind: 'list',
        containers: [{ at: '30s', runtime: '5m', vcpus: 2, ram: '4GiB', priority: 10, outcome: 'hang', preemptible: true, keepCacheRam: '1GiB', gpu: { stack: 'cuda', device_count: 2, hardware_target: ['8.0'], driver_version: '11.0', vram: '16GiB' } }],
      },
    ]);
    expect(r).toEqual({
      id: 'w0-0',
      submitAt: 30_000,
      runtimeMs: 300_000,
      vcpus: 2,
      ram: 4 * GiB,
      priority: 10n,
      preemptible: true,
      outcome: 'hang',
      keepCacheRam: GiB,
      gpu: { stack: 'cuda', deviceCount: 2, hardwareTarget: ['8.0'], driverVersion: '11.0', vram: 16 * GiB },
      source: { entry: 0, kind: 'list' },
    });
  });

  it('mixes outcomes by weight', () => {
    const reqs = gen([{ ...burst, count: 1000 }]);
    const fail = reqs.filter((r) => r.outcome === 'fail').length;
    expect(fail).toBeGreaterThan(60);
    expect(fail).toBeLessThan(140);
  });
});
