import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../../core/domain/json.js';
import { loadScenarioFile, parseScenario } from '../scenario/scenario.js';
import { runScenario } from './run-scenario.js';
import { containersCsv } from './summary.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const scenario = (name: string, opts = {}) => loadScenarioFile(join(repoRoot, 'scenarios', `${name}.yaml`), opts);
const withoutWall = (s: object) => stringifyJson({ ...s, wallSeconds: 0 });

describe('runScenario', () => {
  it('is deterministic: same scenario and seed, same summary and rows (wall time aside)', async () => {
    const a = await runScenario(scenario('restart-recovery'));
    const b = await runScenario(scenario('restart-recovery'));
    expect(withoutWall(a.summary)).toBe(withoutWall(b.summary));
    expect(containersCsv(a.rows)).toBe(containersCsv(b.rows));
  }, 60_000);

  it('changes with the seed', async () => {
    const a = await runScenario(scenario('quickstart', { seed: 1 }));
    const b = await runScenario(scenario('quickstart', { seed: 2 }));
    expect(withoutWall(a.summary)).not.toBe(withoutWall(b.summary));
  }, 60_000);

  it('accounts for every container: one row each, replacements included', async () => {
    const r = await runScenario(scenario('spot-interruptions'));
    const s = r.summary;
    expect(r.rows.length).toBe(s.containers.total + s.containers.retried);
    expect(s.containers.complete + s.containers.failed + s.containers.cancelled + s.containers.unfinished).toBe(s.containers.total);
    expect(s.instances.interrupted).toBeGreaterThan(0);
    // Every started container has a wait, an instance and a cost.
    for (const row of r.rows.filter((x) => x.started !== null)) {
      expect(row.wait).not.toBeNull();
      expect(row.instanceId).not.toBeNull();
      expect(row.cost).toBeGreaterThanOrEqual(0);
    }
  }, 60_000);

  it('stops at the horizon and reports unfinished work', async () => {
    const r = await runScenario(scenario('quickstart', { sets: ['horizon=30m'] }));
    expect(r.summary.endReason).toBe('horizon');
    expect(r.summary.simulatedSeconds).toBe(1800);
    expect(r.summary.containers.unfinished).toBeGreaterThan(0);
    expect(r.summary.containers.lost).toBe(0);
  }, 60_000);

  it('does not call Queued containers lost when the horizon cuts a queue deeper than the dispatcher fetches', async () => {
    // The queue stops after the page (1,000 containers) on which it has seen 100 Queued
    // ones, as the reference does, and has not polled yet what arrives just before the
    // horizon: those containers are still the controller's, not lost.
    const s = parseScenario(
      {
        name: 'deep-queue',
        horizon: '30m',
        cluster: { Containers: { CloudVMs: { MaxInstances: 2 } }, InstanceTypes: { 'm5.large': { VCPUs: 2, RAM: '8GiB', Price: 0.1 } } },
        workload: [
          { kind: 'burst', at: '1m', count: 1500, runtime: '2h', vcpus: 2, ram: '1GiB' },
          { kind: 'list', containers: [{ at: '29m58s', runtime: '5m', vcpus: 2, ram: '1GiB' }] },
        ],
      },
      '.',
    );
    const r = await runScenario(s);
    expect(r.summary.endReason).toBe('horizon');
    expect(r.summary.containers.unfinished).toBe(1501);
    expect(r.summary.containers.lost).toBe(0);
    expect(r.summary.invariantViolations).toEqual([]);
  }, 60_000);

  it('counts a container lost when a Locked one is held by nobody for 30 minutes', async () => {
    // The dispatcher's token loses read access to a container it has locked but not started
    // (one VM at most, each container needs a whole VM): its polls stop returning it, the
    // fetch by uuid answers 404, and the queue forgets it, Locked for ever in the controller.
    const s = parseScenario(
      {
        name: 'revoked',
        horizon: '1h',
        cluster: { Containers: { CloudVMs: { MaxInstances: 1 } }, InstanceTypes: { 'm5.large': { VCPUs: 2, RAM: '8GiB', Price: 0.1 } } },
        workload: [{ kind: 'burst', at: '0s', count: 3, runtime: '2h', vcpus: 2, ram: '1GiB' }],
      },
      '.',
    );
    let revoked = '';
    const r = await runScenario(s, {
      onWorld: ({ engine, controller }) => {
        engine.setTimer(15_000, () => {
          const locked = controller.containerRows().filter((c) => c.state === 'Locked');
          revoked = locked[0]?.uuid ?? '';
          controller.revokeAccess(controller.dispatcherAuthUuid, revoked);
        });
      },
    });
    expect(revoked).not.toBe('');
    expect(r.summary.containers.lost).toBe(1);
    expect(r.summary.invariantViolations).toEqual([
      { invariant: 'no-container-lost', at: 3600, detail: `${revoked} is Locked and no dispatcher or crunch-run accounts for it` },
    ]);
  }, 60_000);

  it('costs no less than the lower bound, and idle plus booting no more than the total', async () => {
    const s = (await runScenario(scenario('quickstart'))).summary;
    expect(s.cost.lowerBound).toBeGreaterThan(0);
    expect(s.cost.total).toBeGreaterThanOrEqual(s.cost.lowerBound);
    expect(s.cost.idle + s.cost.booting).toBeLessThanOrEqual(s.cost.total);
    const byType = Object.values(s.cost.byInstanceType).reduce((a, b) => a + b, 0);
    expect(byType).toBeCloseTo(s.cost.total, 4);
  }, 60_000);

  it('cancels a container no instance type can run, as the reference does', async () => {
    const s = parseScenario(
      {
        name: 'too-big',
        cluster: { InstanceTypes: { 'm5.large': { VCPUs: 2, RAM: '8GiB', Price: 0.1 } } },
        workload: [{ kind: 'list', containers: [{ at: '0s', runtime: '5m', vcpus: 64, ram: '1GiB' }, { at: '0s', runtime: '5m', vcpus: 1, ram: '1GiB' }] }],
      },
      '.',
    );
    const r = await runScenario(s);
    expect(r.summary.containers).toMatchObject({ total: 2, complete: 1, cancelled: 1, lost: 0 });
    expect(r.summary.invariantViolations).toEqual([]);
  }, 60_000);
});
