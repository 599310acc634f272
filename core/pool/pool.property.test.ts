import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CapacityError, NotFoundError, QuotaError, RateLimitError, TransientError } from '../ports/errors.js';
import { advance, container, containerUuid, harness, instanceType } from '../../test/fakes/pool-harness.js';
import type { Pool } from './pool.js';

const TYPES = [instanceType('small', { providerType: 'A1' }), instanceType('big', { providerType: 'B2', vcpus: 8 }), instanceType('spot', { providerType: 'A1', preemptible: true })];

type Action =
  | { k: 'create'; t: number }
  | { k: 'submit'; n: number }
  | { k: 'createError'; e: 'quota' | 'capType' | 'capGroup' | 'capAll' | 'rate' | 'transient' | 'lateFail' }
  | { k: 'listError'; e: 'rate' | 'transient' }
  | { k: 'destroyError'; e: 'transient' | 'notfound' }
  | { k: 'setTagsError' }
  | { k: 'probeFail' | 'bootFail'; n: number }
  | { k: 'hang'; what: string; n: number }
  | { k: 'dupStart'; i: number; j: number }
  | { k: 'restart' }
  | { k: 'vanish' | 'broken' | 'stale' | 'unkillable' | 'kill' | 'drain' | 'killInstance' | 'newHostKey' | 'impostor'; i: number };

const onVm = (k: 'vanish' | 'broken' | 'stale' | 'unkillable' | 'kill' | 'drain' | 'killInstance' | 'newHostKey' | 'impostor') =>
  fc.record({ k: fc.constant(k), i: fc.nat() });

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('create' as const), t: fc.nat(TYPES.length - 1) }), weight: 6 },
  { arbitrary: fc.record({ k: fc.constant('submit' as const), n: fc.integer({ min: 1, max: 4 }) }), weight: 4 },
  fc.record({ k: fc.constant('createError' as const), e: fc.constantFrom('quota', 'capType', 'capGroup', 'capAll', 'rate', 'transient', 'lateFail') }),
  fc.record({ k: fc.constant('listError' as const), e: fc.constantFrom('rate', 'transient') }),
  fc.record({ k: fc.constant('destroyError' as const), e: fc.constantFrom('transient', 'notfound') }),
  fc.record({ k: fc.constant('setTagsError' as const) }),
  fc.record({ k: fc.constantFrom('probeFail' as const, 'bootFail' as const), n: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ k: fc.constant('hang' as const), what: fc.constantFrom('--list', '--detach', '--kill', 'systemctl', 'md5sum', 'arvados-instance-secret'), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ k: fc.constant('dupStart' as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ k: fc.constant('restart' as const) }),
  onVm('vanish'),
  onVm('broken'),
  onVm('stale'),
  onVm('unkillable'),
  onVm('kill'),
  onVm('drain'),
  onVm('killInstance'),
  onVm('newHostKey'),
  onVm('impostor'),
);

const scenarioArb = fc.record({
  steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 90_000 }), actionArb), { minLength: 1, maxLength: 30 }),
  sloppyDriver: fc.boolean(),
  maxCreates: fc.constantFrom(0, 1, 2),
  runtimeMs: fc.integer({ min: 5_000, max: 400_000 }),
  destroyLatencyMs: fc.constantFrom(0, 20_000),
});

/**
 * A minimal scheduler: keeps a queue of containers, starts them on idle workers that run,
 * counts a container done when the pool shows it exited, and queues it again if the pool
 * forgets it without an exit (its VM vanished).
 */
function scheduler(initial: Pool) {
  const pending: string[] = [];
  const started = new Set<string>();
  let pool = initial;
  const tick = () => {
    const snap = pool.snapshot();
    for (const uuid of [...started]) {
      const r = snap.running.get(uuid);
      if (r === undefined) {
        started.delete(uuid);
        pending.push(uuid);
      } else if (r > 0) {
        started.delete(uuid);
        pool.forgetContainer(uuid);
      }
    }
    for (const w of snap.instances) {
      if (pending.length === 0) break;
      if (w.instanceId === '' || w.state !== 'idle' || w.idleBehavior !== 'run') continue;
      const uuid = pending.shift()!;
      if (snap.running.has(uuid) || !pool.startContainer(w.instanceId, container(uuid))) pending.unshift(uuid);
      else started.add(uuid);
    }
  };
  pool.subscribe(tick);
  return {
    submit: (uuid: string) => pending.push(uuid),
    tick,
    /**
     * After a dispatcher restart, containers we had started are Running at the controller:
     * the real scheduler never starts those again (it cancels them if no worker has them).
     */
    restarted(p: Pool) {
      pool = p;
      started.clear();
      pool.subscribe(tick);
    },
  };
}

describe('worker pool properties', () => {
  it('over random cloud and command outcomes: no VM leaked, no foreign VM touched, no container started twice at once', async () => {
    let run = 0;
    const stats = { runs: 0, vms: 0, starts: 0, destroys: 0, commands: 0, restarts: 0 };
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        run++;
        const h = harness(
          TYPES,
          { MaxConcurrentInstanceCreateOps: sc.maxCreates, MaxInstances: 8, TimeoutIdle: 60_000, TimeoutBooting: 300_000, TimeoutProbe: 300_000, TimeoutTERM: 30_000 },
          { ignoreFilter: sc.sloppyDriver, destroyLatencyMs: sc.destroyLatencyMs, bootDelayMs: 20_000 },
          `prop-${run}`,
        );
        h.shell.containerRuntimeMs = sc.runtimeMs;
        h.cloud.addVm('A1', { ArvadosInstanceSetID: 'another-dispatcher', ArvadosInstanceType: 'small', ArvadosIdleBehavior: 'run' }, { foreign: true });
        h.cloud.addVm('A1', {}, { foreign: true });
        let pool = h.newPool({ commandTimeoutMs: 20_000 });
        const sched = scheduler(pool);
        pool.start();
        const ours = () => h.cloud.liveVms().filter((v) => !v.foreign);
        const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length]);
        const created = new Set<string>();
        for (const [delay, a] of sc.steps) {
          await advance(h.engine, delay);
          for (const v of ours()) created.add(v.id);
          const vm = 'i' in a && a.k !== 'dupStart' ? pick(ours(), a.i) : undefined;
          switch (a.k) {
            case 'create':
              pool.create(TYPES[a.t]!);
              break;
            case 'submit':
              for (let j = 0; j < a.n; j++) sched.submit(containerUuid());
              sched.tick();
              break;
            case 'createError': {
              const e = {
                quota: new QuotaError('creating: quota'),
                capType: new CapacityError('creating: capacity', { scope: 'type', providerType: 'A1', preemptible: false }),
                capGroup: new CapacityError('creating: capacity', { scope: 'quota-group', quotaGroup: 'b' }),
                capAll: new CapacityError('creating: capacity', { scope: 'all' }),
                rate: new RateLimitError('creating: throttled', 20_000),
                transient: new TransientError('creating: 500'),
                lateFail: new TransientError('creating: timed out after the cloud acted'),
              }[a.e];
              if (a.e === 'lateFail') h.cloud.createThenFail(e);
              else h.cloud.failNext('create', e);
              break;
            }
            case 'listError':
              h.cloud.failNext('list', a.e === 'rate' ? new RateLimitError('listing: throttled', 30_000) : new TransientError('listing: 503'));
              break;
            case 'destroyError':
              h.cloud.failNext('destroy', a.e === 'transient' ? new TransientError('destroying: 500') : new NotFoundError('destroying: gone'));
              break;
            case 'setTagsError':
              h.cloud.failNext('setTags', new TransientError('tagging: 500'));
              break;
            case 'probeFail':
              h.shell.when(/--list/, { exit: 1, stderr: 'probe failed' }, a.n);
              break;
            case 'bootFail':
              h.shell.when('systemctl', { exit: 1, stderr: 'degraded' }, a.n);
              break;
            case 'hang':
              h.shell.when(a.what, 'hang', a.n);
              break;
            case 'vanish':
              if (vm) h.cloud.vanish(vm.id);
              break;
            case 'broken':
              if (vm) vm.broken = true;
              break;
            case 'stale':
              vm?.staleLocks.add('zzzzz-dz642-stalestalestale');
              break;
            case 'unkillable':
              for (const p of vm?.processes.values() ?? []) p.unkillable = true;
              break;
            case 'kill': {
              const uuids = [...pool.snapshot().running.entries()].filter(([, t]) => t === 0).map(([u]) => u);
              const u = pick(uuids, a.i);
              if (u !== undefined) pool.killContainer(u, 'test');
              break;
            }
            case 'dupStart': {
              // A buggy scheduler asks for a container that is already on a worker.
              const snap = pool.snapshot();
              const uuid = pick([...snap.running.entries()].filter(([, t]) => t === 0).map(([u]) => u), a.i);
              const w = pick(snap.instances.filter((x) => x.state === 'idle' || x.state === 'running'), a.j);
              if (uuid !== undefined && w !== undefined) expect(pool.startContainer(w.instanceId, container(uuid))).toBe(false);
              break;
            }
            case 'restart':
              pool.stop();
              pool = h.newPool({ commandTimeoutMs: 20_000 });
              sched.restarted(pool);
              pool.start();
              stats.restarts++;
              break;
            case 'drain':
              if (vm && pool.snapshot().instances.some((i) => i.instanceId === vm.id)) pool.setIdleBehavior(vm.id, 'drain');
              break;
            case 'killInstance':
              if (vm && pool.snapshot().instances.some((i) => i.instanceId === vm.id)) pool.killInstance(vm.id, 'test');
              break;
            case 'newHostKey':
              if (vm) vm.hostKey = Buffer.from(`rotated-${h.engine.now()}`);
              break;
            case 'impostor':
              if (vm) {
                vm.secretFile = 'f'.repeat(40);
                vm.hostKey = Buffer.from('impostor');
              }
              break;
          }
        }
        // Quiet period: every timeout passes, containers finish, idle VMs go.
        await advance(h.engine, 3 * 3_600_000);
        pool.stop();
        stats.runs++;
        stats.vms += h.cloud.calls.create.length;
        stats.starts += h.shell.commands().filter((c) => c.includes('--detach')).length;
        stats.destroys += h.cloud.calls.destroy.length;
        stats.commands += h.shell.log.length;
        expect(h.shell.doubleStarts).toEqual([]);
        expect(h.cloud.foreignTouches).toEqual([]);
        expect(h.shell.foreignCommands).toEqual([]);
        expect(ours().map((v) => v.id)).toEqual([]);
        expect(h.cloud.liveVms().filter((v) => v.foreign)).toHaveLength(2);
        expect(pool.snapshot().instances.filter((i) => i.instanceId !== '')).toEqual([]);
      }),
      { numRuns: 150, seed: 20261204 },
    );
    // The runs must exercise the pool, not pass vacuously.
    expect(stats.vms).toBeGreaterThan(stats.runs);
    expect(stats.starts).toBeGreaterThan(stats.runs);
    expect(stats.restarts).toBeGreaterThan(5);
  }, 120_000);
});
