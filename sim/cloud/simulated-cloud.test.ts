import { describe, expect, it } from 'vitest';
import { NO_GPU, type InstanceType } from '../../core/domain/instance-type.js';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { CapacityError, NotFoundError, NotImplementedError, QuotaError, RateLimitError, TransientError } from '../../core/ports/errors.js';
import type { CreateRequest, Instance } from '../../core/ports/instance-set.js';
import { EventEngine } from '../engine/event-engine.js';
import { RecordingCrunchRunWorld, type ContainerPlan } from '../vm/crunch-run-world.js';
import { SimulatedVm } from '../vm/simulated-vm.js';
import { advance, runUntilSettled } from '../vm/vm-test-kit.js';
import type { CloudBehavior } from './cloud-behavior.js';
import { SimulatedCloud } from './simulated-cloud.js';

const HOUR = 3_600_000;
const START = 1_700_000_000_000;

function type(name: string, vcpus: number, price: number, preemptible = false, providerType = name): InstanceType {
  return { name, providerType, vcpus, ram: vcpus * 4 * 2 ** 30, scratch: 0, includedScratch: 0, addedScratch: 0, price, preemptible, gpu: NO_GPU };
}
const M5 = type('m5.large', 2, 0.096);
const M5_SPOT = type('m5.large.preemptible', 2, 0.048, true, 'm5.large');
const C5 = type('c5.xlarge', 4, 0.17);
const TYPES = [M5, M5_SPOT, C5];
const SET = { ArvadosInstanceSetID: 'set-1' };

function setup(behavior: Partial<CloudBehavior> = {}, seed = 'seed-1', plan: ContainerPlan = { runtimeMs: 1_000_000, outcome: 'complete' }) {
  const engine = new EventEngine(START);
  const world = new RecordingCrunchRunWorld(() => engine.now(), () => plan);
  const cloud = new SimulatedCloud({
    clock: engine,
    rng: new SeededRng(seed),
    instanceTypes: TYPES,
    behavior: { bootTime: 60_000, ...behavior },
    createVm: (spec) => new SimulatedVm({ ...spec, clock: engine, world, behavior: { commandLatencyMs: 0 } }),
  });
  const req = (t: InstanceType, tags: Record<string, string> = SET): CreateRequest => ({
    type: t,
    imageId: 'ami-1',
    tags,
    initCommand: 'umask 0177 && echo -n "secret" >/var/run/arvados-instance-secret',
    publicKey: null,
  });
  const create = (t: InstanceType, tags?: Record<string, string>) => runUntilSettled(engine, cloud.create(req(t, tags)));
  const list = (filter: Record<string, string> | null = SET) => runUntilSettled(engine, cloud.instances(filter));
  const at = (ms: number) => advance(engine, START + ms - engine.now());
  const sh = async (inst: Instance, cmd: string, stdin = '') => {
    const r = await runUntilSettled(engine, cloud.vm(inst.id)!.run(cmd, Buffer.from(stdin)));
    return r.stdout.toString();
  };
  return { engine, world, cloud, create, list, at, sh };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('SimulatedCloud instances', () => {
  it('creates, lists by tag and boots after the boot time', async () => {
    const t = setup();
    const inst = await t.create(M5);
    expect(inst.id).toMatch(/^i-[0-9a-f]{17}$/);
    expect(inst.providerType).toBe('m5.large');
    expect(inst.address()).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(inst.remoteUser()).toBe('crunch');
    expect(inst.tags).toEqual(SET);
    expect((await t.list()).map((i) => i.id)).toEqual([inst.id]);
    expect(await t.list({ ArvadosInstanceSetID: 'other' })).toEqual([]);
    expect(t.cloud.vm(inst.id)!.vmState()).toBe('booting');
    await t.at(59_999);
    expect(t.cloud.vm(inst.id)!.vmState()).toBe('booting');
    await t.at(60_000);
    expect(t.cloud.vm(inst.id)!.vmState()).toBe('up');
    expect(t.cloud.ledger.record(inst.id)!.bootedAt).toBe(START + 60_000);
    expect(await t.sh(inst, 'sudo cat /var/run/arvados-instance-secret')).toBe('secret');
  });

  it('replaces tags with setTags; snapshots keep the tags they were listed with', async () => {
    const t = setup();
    const inst = await t.create(M5);
    await runUntilSettled(t.engine, inst.setTags({ ...SET, ArvadosIdleBehavior: 'hold' }));
    expect(inst.tags).toEqual(SET);
    expect((await t.list())[0]!.tags).toEqual({ ...SET, ArvadosIdleBehavior: 'hold' });
    await runUntilSettled(t.engine, inst.setTags(SET));
    expect((await t.list())[0]!.tags).toEqual(SET);
  });

  it('destroys: listed while shutting down, then gone; NotFound afterwards; the VM stops answering', async () => {
    const t = setup({ shutdownMs: 30_000 });
    const inst = await t.create(M5);
    await t.at(100_000);
    await runUntilSettled(t.engine, inst.destroy());
    await runUntilSettled(t.engine, inst.destroy());
    expect(t.cloud.vm(inst.id)!.vmState()).toBe('halted');
    expect(await t.list()).toHaveLength(1);
    await t.at(130_000);
    expect(await t.list()).toHaveLength(0);
    expect(await rejection(inst.destroy())).toBeInstanceOf(NotFoundError);
    expect(await rejection(inst.setTags({}))).toBeInstanceOf(NotFoundError);
    const rec = t.cloud.ledger.record(inst.id)!;
    expect([rec.destroyRequestedAt, rec.goneAt, rec.endReason]).toEqual([START + 100_000, START + 130_000, 'destroyed']);
  });

  it('fails creates and destroys at the configured rates with TransientError', async () => {
    const t = setup({ createFailureRate: 1, destroyFailureRate: 1 });
    expect(await rejection(t.cloud.create({ type: M5, imageId: '', tags: SET, initCommand: '', publicKey: null }))).toBeInstanceOf(TransientError);
    const u = setup({ destroyFailureRate: 1 });
    const inst = await u.create(M5);
    expect(await rejection(inst.destroy())).toBeInstanceOf(TransientError);
    expect(await u.list()).toHaveLength(1);
  });

  it('answers verifyHostKey with NotImplementedError, like EC2', async () => {
    const t = setup();
    const inst = await t.create(M5);
    expect(await rejection(inst.verifyHostKey(Buffer.from('k'), () => Promise.reject(new Error('x'))))).toBeInstanceOf(NotImplementedError);
  });

  it('takes the API latency on the virtual clock', async () => {
    const t = setup({ apiLatencyMs: 250 });
    await t.create(M5);
    expect(t.engine.now()).toBe(START + 250);
  });
});

describe('SimulatedCloud quotas and capacity', () => {
  it('raises QuotaError at the instance quota, counting shutting-down instances, and follows quota changes', async () => {
    const t = setup({ quota: { instances: 2 }, shutdownMs: 30_000 });
    const a = await t.create(M5);
    await t.create(C5);
    expect(await rejection(t.cloud.create({ type: M5, imageId: '', tags: SET, initCommand: '', publicKey: null }))).toBeInstanceOf(QuotaError);
    await runUntilSettled(t.engine, a.destroy());
    expect(await rejection(t.cloud.create({ type: M5, imageId: '', tags: SET, initCommand: '', publicKey: null }))).toBeInstanceOf(QuotaError);
    await t.at(30_000);
    await t.create(M5);
    t.cloud.setQuota({ instances: 4 });
    await t.create(M5);
    await t.create(M5);
    const e = await rejection(t.cloud.create({ type: M5, imageId: '', tags: SET, initCommand: '', publicKey: null }));
    expect(e).toBeInstanceOf(QuotaError);
    expect((e as Error).message).toContain('InstanceLimitExceeded');
  });

  it('raises a quota-group CapacityError at a vCPU quota; spot types use their own group', async () => {
    const t = setup({ quota: { vcpus: { standard: 4, 'standard-spot': 2 } } });
    await t.create(M5);
    await t.create(M5);
    const e = await rejection(t.cloud.create({ type: C5, imageId: '', tags: SET, initCommand: '', publicKey: null }));
    expect(e).toBeInstanceOf(CapacityError);
    expect((e as CapacityError).capacity).toEqual({ scope: 'quota-group', quotaGroup: 'standard' });
    expect((e as Error).message).toContain('VcpuLimitExceeded');
    await t.create(M5_SPOT);
    const s = await rejection(t.cloud.create({ type: M5_SPOT, imageId: '', tags: SET, initCommand: '', publicKey: null }));
    expect((s as CapacityError).capacity).toEqual({ scope: 'quota-group', quotaGroup: 'standard-spot' });
  });

  it('names quota groups as the EC2 driver does', () => {
    const t = setup();
    const g = (name: string, preemptible = false) => t.cloud.instanceQuotaGroup(type(name, 1, 1, preemptible));
    expect(g('m5.large')).toBe('standard');
    expect(g('m5.large', true)).toBe('standard-spot');
    expect(g('p5.48xlarge')).toBe('p5');
    expect(g('p3.2xlarge')).toBe('p');
    expect(g('trn1.2xlarge')).toBe('trn');
    expect(g('g4dn.xlarge')).toBe('g');
    expect(g('vt1.3xlarge')).toBe('g');
    expect(g('M1.XLarge')).toBe('standard');
    const custom = new SimulatedCloud({
      clock: t.engine,
      rng: new SeededRng('x'),
      instanceTypes: [],
      behavior: { quotaGroups: { g4: 'gpu4', m: 'mem' } },
      createVm: () => {
        throw new Error('unused');
      },
    });
    expect(custom.instanceQuotaGroup(type('g4dn.xlarge', 1, 1))).toBe('gpu4');
    expect(custom.instanceQuotaGroup(type('c5.large', 1, 1, true))).toBe('c-spot');
  });

  it('raises a type CapacityError during a capacity outage window only, for the listed types', async () => {
    const t = setup({ capacity: [{ types: ['c5.xlarge'], from: HOUR, to: 2 * HOUR }] });
    await t.create(C5);
    await t.at(HOUR);
    const e = await rejection(t.cloud.create({ type: C5, imageId: '', tags: SET, initCommand: '', publicKey: null }));
    expect(e).toBeInstanceOf(CapacityError);
    expect((e as CapacityError).capacity).toEqual({ scope: 'type', providerType: 'c5.xlarge', preemptible: false });
    expect((e as Error).message).toContain('InsufficientInstanceCapacity');
    await t.create(M5);
    await t.at(2 * HOUR);
    await t.create(C5);
  });
});

describe('SimulatedCloud API limits and outages', () => {
  it('rate-limits every call with a token bucket and says when to retry', async () => {
    const t = setup({ rateLimit: { opsPerSecond: 2 } });
    await t.create(M5);
    await t.list();
    const e = await rejection(t.cloud.instances(SET));
    expect(e).toBeInstanceOf(RateLimitError);
    expect((e as RateLimitError).retryAfterMs).toBe(500);
    await t.at(499);
    expect(await rejection(t.cloud.instances(SET))).toBeInstanceOf(RateLimitError);
    await t.at(500);
    expect(await t.list()).toHaveLength(1);
    const inst = (await rejection(t.cloud.create({ type: M5, imageId: '', tags: SET, initCommand: '', publicKey: null }))) as RateLimitError;
    expect(inst.retryAfterMs).toBe(500);
  });

  it('fails every call with TransientError during an API outage', async () => {
    const t = setup();
    const inst = await t.create(M5);
    t.cloud.apiOutage(10 * 60_000);
    for (const p of [t.cloud.instances(SET), inst.destroy(), inst.setTags({}), t.cloud.create({ type: M5, imageId: '', tags: SET, initCommand: '', publicKey: null })]) {
      expect(await rejection(p)).toBeInstanceOf(TransientError);
    }
    await t.at(10 * 60_000);
    expect(await t.list()).toHaveLength(1);
  });
});

describe('SimulatedCloud misfortunes', () => {
  it('lets VMs die without notice at the configured rate', async () => {
    const t = setup({ dieRatePerHour: 2 });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await t.create(M5)).id);
    await t.at(24 * HOUR);
    expect(await t.list()).toEqual([]);
    for (const id of ids) {
      const rec = t.cloud.ledger.record(id)!;
      expect(rec.endReason).toBe('died');
      expect(rec.destroyRequestedAt).toBeNull();
    }
    expect(t.cloud.ledger.totals(t.engine.now()).died).toBe(5);
  });

  it('interrupts spot instances after a notice, tells crunch-run, and spares on-demand ones', async () => {
    const t = setup({ spot: { interruptionsPerHour: 1, noticeMs: 120_000 } }, 'seed-1', { runtimeMs: 0, outcome: 'hang' });
    const spot = await t.create(M5_SPOT);
    const onDemand = await t.create(M5);
    await t.at(60_000);
    const cfg = JSON.stringify({ Env: { ARVADOS_API_HOST: 'h', ARVADOS_API_TOKEN: 't' }, EC2SpotCheck: true });
    await t.sh(spot, `sudo crunch-run --detach --stdin-config '--runtime-engine=docker' 'zzzzz-dz642-000000000000001'`, cfg);
    await t.at(48 * HOUR);
    const rec = t.cloud.ledger.record(spot.id)!;
    expect(rec.endReason).toBe('interrupted');
    expect(rec.goneAt! - rec.interruptionNoticeAt!).toBe(120_000);
    const notice = t.world.calls.find((c) => c.kind === 'preemption-notice');
    expect(notice).toMatchObject({ at: rec.interruptionNoticeAt, actionAtMs: rec.goneAt });
    // The container dies with the VM: crunch-run says nothing more to the controller.
    expect(t.world.calls.map((c) => c.kind)).toEqual(['starting', 'running', 'preemption-notice']);
    expect((await t.list()).map((i) => i.id)).toEqual([onDemand.id]);
    expect(t.cloud.ledger.totals(t.engine.now()).interrupted).toBe(1);
  });

  it('makes broken VMs that boot but report broken', async () => {
    const t = setup({ brokenRate: 1 });
    const inst = await t.create(M5);
    await t.at(60_000);
    expect(await t.sh(inst, 'sudo crunch-run --list')).toBe('broken\n');
  });

  it('kills and partitions random live instances of this dispatcher on request', async () => {
    const t = setup();
    const ids = new Set<string>();
    for (let i = 0; i < 4; i++) ids.add((await t.create(M5)).id);
    await t.at(60_000);
    const foreign = t.cloud.addForeignInstance(M5, { ArvadosInstanceSetID: 'other' });
    const parted = t.cloud.partitionInstances(2, 60_000);
    expect(parted).toHaveLength(2);
    for (const id of parted) expect(t.cloud.vm(id)!.isReachable()).toBe(false);
    await t.at(120_000);
    for (const id of parted) expect(t.cloud.vm(id)!.isReachable()).toBe(true);
    const killed = t.cloud.killInstances(10);
    expect(new Set(killed)).toEqual(ids);
    expect(t.cloud.liveInstanceIds()).toEqual([foreign]);
    expect(t.cloud.ledger.totals(t.engine.now()).killed).toBe(4);
  });
});

describe('SimulatedCloud foreign instances', () => {
  it('lists them only without a set filter and records any touch', async () => {
    const t = setup();
    const mine = await t.create(M5);
    const foreignId = t.cloud.addForeignInstance(C5, { ArvadosInstanceSetID: 'other-dispatcher' });
    expect((await t.list()).map((i) => i.id)).toEqual([mine.id]);
    const all = await t.list(null);
    expect(all.map((i) => i.id)).toEqual([mine.id, foreignId]);
    expect(t.cloud.foreignTouches()).toEqual([]);
    const foreign = all[1]!;
    await runUntilSettled(t.engine, foreign.setTags({ x: 'y' }));
    await runUntilSettled(t.engine, foreign.destroy());
    expect(t.cloud.foreignTouches()).toEqual([
      { at: START, instanceId: foreignId, op: 'setTags' },
      { at: START, instanceId: foreignId, op: 'destroy' },
    ]);
    expect(t.cloud.ledger.record(foreignId)).toBeUndefined();
    expect(t.cloud.ledger.totals(t.engine.now()).created).toBe(1);
  });
});

describe('SimulatedCloud prices and ledger', () => {
  it('bills spot instances at priceFactor × the on-demand price and reports it in priceHistory', async () => {
    const t = setup({ spot: { priceFactor: 0.25, interruptionsPerHour: 0, noticeMs: 0 } });
    const spot = await t.create(M5_SPOT);
    const od = await t.create(M5);
    expect(spot.priceHistory(M5_SPOT)).toEqual([{ startTime: START, price: 0.024 }]);
    expect(od.priceHistory(M5)).toEqual([]);
    const plain = setup();
    const s2 = await plain.create(M5_SPOT);
    expect(s2.priceHistory(M5_SPOT)).toEqual([{ startTime: START, price: 0.048 }]);
  });

  it('computes total, booting and idle cost exactly on a scripted timeline', async () => {
    const PRICE = 3.6; // 0.001 per second
    const T = type('t.sec', 1, PRICE);
    const t = setup({ bootTime: 60_000, shutdownMs: 30_000 });
    const a = await t.create(T);
    await t.at(100_000);
    await t.sh(a, 'sudo crunch-run --list'); // ready at 100 s
    await t.at(200_000);
    const cfg = JSON.stringify({ Env: { ARVADOS_API_HOST: 'h', ARVADOS_API_TOKEN: 't' } });
    t.world.calls.length = 0;
    await t.sh(a, `sudo crunch-run --detach --stdin-config '--runtime-engine=docker' 'zzzzz-dz642-000000000000001'`, cfg);
    // Start-up 1 s + runtime 1000 s: busy from 200 s to 1201 s.
    await t.at(1_500_000);
    await runUntilSettled(t.engine, a.destroy());
    const b = await t.create(T); // created at 1500 s, never ready: all booting
    await t.at(2_000_000);
    const now = t.engine.now();
    const [ca, cb] = t.cloud.ledger.costs(now);
    expect(ca).toMatchObject({ instanceId: a.id, billedMs: 1_530_000 });
    expect(ca!.total).toBeCloseTo(1.53, 12);
    expect(ca!.booting).toBeCloseTo(0.1, 12);
    expect(ca!.idle).toBeCloseTo(1.53 - 0.1 - 1.001, 12);
    expect(cb).toMatchObject({ instanceId: b.id, billedMs: 500_000 });
    expect(cb!.booting).toBeCloseTo(0.5, 12);
    expect(cb!.idle).toBe(0);
    const totals = t.cloud.ledger.totals(now);
    expect(totals).toMatchObject({ created: 2, destroyed: 1, gone: 1, live: 1, peak: 2, goneNeverReady: 0 });
    expect(totals.cost.total).toBeCloseTo(2.03, 12);
    expect(totals.cost.byInstanceType['t.sec']).toBeCloseTo(2.03, 12);
    const kinds = t.cloud.ledger.events().filter((e) => e.instanceId === a.id).map((e) => `${e.kind}@${(e.at - START) / 1000}`);
    expect(kinds).toEqual(['created@0', 'booted@60', 'ready@100', 'first-container@200', 'destroy-requested@1500', 'gone@1530']);
  });
});

describe('SimulatedCloud determinism', () => {
  async function timeline(seed: string) {
    const t = setup({ bootTime: { median: 90_000, p95: 240_000 }, createFailureRate: 0.3, dieRatePerHour: 0.5 }, seed);
    const out: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await runUntilSettled(t.engine, t.cloud.create({ type: M5, imageId: '', tags: SET, initCommand: '', publicKey: null })).then(
        (x) => x.id,
        (e: Error) => e.name,
      );
      out.push(r);
      await t.at((i + 1) * 60_000);
    }
    await t.at(10 * HOUR);
    return [out, t.cloud.ledger.events()];
  }

  it('gives the same ids and the same timeline for the same seed', async () => {
    const a = await timeline('s1');
    expect(await timeline('s1')).toEqual(a);
    expect(await timeline('s2')).not.toEqual(a);
  });
});
