import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../scenario/scenario.js';
import { runScenario } from './run-scenario.js';

const minutes = (n: number) => `${n}m`;

/** A random small scenario: a workload, cloud misbehaviour and faults, all from fast-check. */
const scenarioDoc = fc
  .record({
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    count: fc.integer({ min: 1, max: 40 }),
    ratePerHour: fc.integer({ min: 10, max: 200 }),
    runtimeMin: fc.integer({ min: 1, max: 60 }),
    vcpus: fc.subarray([1, 2, 4, 8], { minLength: 1 }),
    preemptible: fc.constantFrom(0, 0.5, 1),
    outcomeFail: fc.boolean(),
    maxInstances: fc.integer({ min: 1, max: 12 }),
    perInstance: fc.constantFrom(0, 1, 2),
    bootMin: fc.integer({ min: 1, max: 8 }),
    createFailureRate: fc.constantFrom(0, 0.1, 0.3),
    destroyFailureRate: fc.constantFrom(0, 0.2),
    brokenRate: fc.constantFrom(0, 0.1),
    dieRatePerHour: fc.constantFrom(0, 0.2),
    quota: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    spot: fc.constantFrom(0, 0.5),
    faults: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('controller-unavailable'), at: fc.integer({ min: 1, max: 120 }), for: fc.integer({ min: 1, max: 15 }) }),
        fc.record({ kind: fc.constant('cloud-api-outage'), at: fc.integer({ min: 1, max: 120 }), for: fc.integer({ min: 1, max: 15 }) }),
        fc.record({ kind: fc.constant('dispatcher-restart'), at: fc.integer({ min: 1, max: 120 }) }),
        fc.record({ kind: fc.constant('kill-instances'), at: fc.integer({ min: 1, max: 120 }), count: fc.integer({ min: 1, max: 3 }) }),
        fc.record({ kind: fc.constant('quota'), at: fc.integer({ min: 1, max: 120 }), instances: fc.integer({ min: 1, max: 10 }) }),
        fc.record({ kind: fc.constant('ssh-partition'), at: fc.integer({ min: 1, max: 120 }), count: fc.integer({ min: 1, max: 3 }), for: fc.integer({ min: 1, max: 15 }) }),
      ),
      { maxLength: 4 },
    ),
  })
  .map((r) => ({
    name: 'random',
    seed: r.seed,
    horizon: '2d',
    cluster: {
      Containers: {
        PreemptiblePriceFactor: 0.4,
        CloudVMs: { MaxInstances: r.maxInstances, MaxRunningContainersPerInstance: r.perInstance, TimeoutIdle: '1m' },
      },
      InstanceTypes: {
        'm5.large': { VCPUs: 2, RAM: '8GiB', IncludedScratch: '32GB', Price: 0.096 },
        'm5.2xlarge': { VCPUs: 8, RAM: '32GiB', IncludedScratch: '128GB', Price: 0.384 },
      },
    },
    cloud: {
      bootTime: minutes(r.bootMin),
      createFailureRate: r.createFailureRate,
      destroyFailureRate: r.destroyFailureRate,
      brokenRate: r.brokenRate,
      dieRatePerHour: r.dieRatePerHour,
      ...(r.quota !== undefined ? { quota: { instances: r.quota } } : {}),
      spot: { interruptionsPerHour: r.spot, noticeSeconds: 60 },
    },
    workload: [
      {
        kind: 'poisson',
        count: r.count,
        ratePerHour: r.ratePerHour,
        runtime: minutes(r.runtimeMin),
        vcpus: r.vcpus,
        ram: ['1GiB', '4GiB'],
        preemptible: r.preemptible,
        ...(r.outcomeFail ? { outcome: { complete: 4, fail: 1 } } : {}),
      },
    ],
    faults: r.faults.map((f) => ({ ...f, at: minutes(f.at), ...('for' in f ? { for: minutes(f.for) } : {}) })),
  }));

describe('simulator invariants under random scenarios', () => {
  it('never loses a container, starts one twice, leaks or touches a foreign VM, or makes an illegal transition', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioDoc, async (doc) => {
        const r = await runScenario(parseScenario(structuredClone(doc), '.'));
        const s = r.summary;
        expect(s.invariantViolations).toEqual([]);
        expect(s.containers.lost).toBe(0);
        expect(s.containers.doubleStarts).toBe(0);
        expect(s.endReason).toBe('done');
        expect(s.containers.unfinished).toBe(0);
        expect(s.containers.complete + s.containers.failed + s.containers.cancelled).toBe(s.containers.total);
      }),
      { numRuns: Number(process.env.VMD_PROPERTY_RUNS ?? 40), seed: Number(process.env.VMD_PROPERTY_SEED ?? 20261204), endOnFailure: true },
    );
  }, 600_000);
});
