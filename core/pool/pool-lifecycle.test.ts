import { describe, it, expect } from 'vitest';
import { advance, container, harness, instanceType } from '../../test/fakes/pool-harness.js';

const t1 = instanceType('type1');

describe('pool lifecycle', () => {
  it('creates, boots, runs a container, goes idle, shuts down and forgets a VM', async () => {
    const h = harness([t1], { TimeoutIdle: 60_000 }, { bootDelayMs: 30_000 });
    h.shell.containerRuntimeMs = 120_000;
    const pool = h.newPool();
    let notes = 0;
    pool.subscribe(() => notes++);
    pool.start();
    await advance(h.engine, 1);
    await pool.whenLoaded();
    expect(pool.create(t1)).toBe(true);
    expect(pool.snapshot().instances).toMatchObject([{ instanceId: '', state: 'booting' }]);
    await advance(h.engine, 1000);
    const [vm] = h.cloud.liveVms();
    expect(vm).toBeDefined();
    expect(pool.snapshot().workerCounts.booting).toBe(1);
    await advance(h.engine, 60_000);
    expect(pool.snapshot().workerCounts.idle).toBe(1);
    const ctr = container();
    expect(pool.startContainer(vm!.id, ctr)).toBe(true);
    expect(pool.startContainer(vm!.id, ctr)).toBe(false);
    expect(pool.snapshot().running.get(ctr.uuid)).toBe(0);
    await advance(h.engine, 1000);
    expect(vm!.processes.has(ctr.uuid)).toBe(true);
    expect(pool.snapshot().workerCounts.running).toBe(1);
    await advance(h.engine, 130_000);
    expect(pool.snapshot().running.get(ctr.uuid)).toBeGreaterThan(0);
    expect(pool.snapshot().workerCounts.idle).toBe(1);
    await advance(h.engine, 70_000);
    expect(h.cloud.calls.destroy).toEqual([vm!.id]);
    await advance(h.engine, 70_000);
    expect(pool.snapshot().instances).toEqual([]);
    expect(notes).toBeGreaterThan(3);
    // Host key accepted once, by the secret the create call put in the tag and init script.
    expect(h.shell.hostKeyChecks).toEqual([{ vm: vm!.id, ok: true }]);
    const req = h.cloud.calls.create[0]!;
    expect(req.tags['ArvadosInstanceType']).toBe('type1');
    expect(req.initCommand).toContain(`echo -n "${req.tags['ArvadosInstanceSecret']}"`);
    const transitions = h.logger.lines.filter((l) => l.msg === 'worker state changed').map((l) => `${String(l.fields['From'])}->${String(l.fields['To'])}:${String(l.fields['Reason'])}`);
    expect(transitions).toEqual([
      'booting->idle:probes succeeded',
      'idle->running:container starting',
      'running->idle:last container ended',
      'idle->shutdown:idle timeout',
    ]);
    pool.stop();
  });

  it('draws probe jitter from the seeded Rng: same seed, same probe times; another seed, others', async () => {
    const times = async (seed: string) => {
      const h = harness([t1], { TimeoutIdle: 3_600_000 }, {}, seed);
      const pool = h.newPool();
      pool.start();
      pool.create(t1);
      await advance(h.engine, 60_000);
      pool.stop();
      return h.shell.log.filter((r) => r.command.endsWith('--list')).map((r) => r.at);
    };
    const a = await times('s1');
    expect(a.length).toBeGreaterThan(3);
    expect(await times('s1')).toEqual(a);
    expect(await times('s2')).not.toEqual(a);
    for (let i = 1; i < a.length; i++) expect(a[i]! - a[i - 1]!).toBeLessThan(10_000 + 10_000 / 23);
  });
});
