import type { Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import { nullLogger } from '../../core/ports/logger.js';
import type { Rng } from '../../core/ports/rng.js';
import { tagMatcher, type CreateRequest, type ExecutorTarget, type Instance, type InstanceSet, type InstanceTags } from '../../core/ports/instance-set.js';
import type { InstanceType } from '../../core/domain/instance-type.js';
import { CapacityError, NotFoundError, QuotaError, RateLimitError, TransientError } from '../../core/ports/errors.js';
import type { SimulatedVm, VmSpec } from '../vm/simulated-vm.js';
import { cloudBehavior, ec2QuotaGroup, sampleDuration, sampleExponentialMs, type CloudBehavior, type QuotaSpec } from './cloud-behavior.js';
import { CloudLedger, type EndReason } from './cloud-ledger.js';
import { SimInstance, type CloudRecord } from './sim-instance.js';
import { TokenBucket } from './token-bucket.js';

/** Makes the VM behind a new instance (the runner wires in the world and VM knobs). */
export type VmFactory = (spec: VmSpec) => SimulatedVm;

export interface SimulatedCloudOptions {
  readonly clock: Clock;
  /** Forked per concern (ids, boot, failures, broken, deaths, spot, faults). */
  readonly rng: Rng;
  /** The configured types: used for on-demand prices of provider types. */
  readonly instanceTypes: readonly InstanceType[];
  readonly behavior?: Partial<CloudBehavior>;
  readonly logger?: Logger;
  readonly createVm: VmFactory;
  /** SSH login user of every VM (EC2: AdminUsername). Default `crunch`. */
  readonly remoteUser?: string;
  /** Time 0 of capacity windows (ms since the epoch). Default: the clock's time now. */
  readonly startMs?: number;
}

/** A call that touched an instance this dispatcher did not create. */
export interface ForeignTouch {
  readonly at: number;
  readonly instanceId: string;
  readonly op: 'destroy' | 'setTags';
}

/**
 * A cloud account on the virtual clock, behind the InstanceSet port: boot times, create
 * and destroy failures, quotas (instances and vCPUs per EC2 quota group), capacity
 * outages, an API rate limit, API outages, VMs that die, spot interruptions, broken VMs,
 * prices, and a ledger for the bill. Errors are the core's typed errors, raised where the
 * EC2 driver raises them (see docs/simulated-world.md for the mapping).
 *
 * The account outlives any dispatcher: `stop()` changes nothing, so a restarted
 * dispatcher finds its instances (and their crunch-run processes) as it left them.
 */
export class SimulatedCloud implements InstanceSet {
  readonly ledger = new CloudLedger();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly behavior: CloudBehavior;
  private readonly remoteUser: string;
  private readonly startMs: number;
  private readonly rng: { ids: Rng; boot: Rng; createFail: Rng; destroyFail: Rng; broken: Rng; die: Rng; spot: Rng; faults: Rng; vm: Rng };
  private readonly bucket: TokenBucket | null;
  private readonly live = new Map<string, CloudRecord>();
  private readonly byAddress = new Map<string, CloudRecord>();
  private readonly usedIds = new Set<string>();
  private readonly onDemandPrice = new Map<string, number>();
  private readonly touches: ForeignTouch[] = [];
  private readonly groupVcpus = new Map<string, number>();
  private readonly quotaGroupCache = new Map<string, string>();
  private nextAddress = 1;
  private outageUntil = -Infinity;
  private quota: QuotaSpec;
  private calls = 0;

  constructor(private readonly opts: SimulatedCloudOptions) {
    this.clock = opts.clock;
    this.logger = opts.logger ?? nullLogger;
    this.behavior = cloudBehavior(opts.behavior);
    this.quota = this.behavior.quota;
    this.remoteUser = opts.remoteUser ?? 'crunch';
    this.startMs = opts.startMs ?? opts.clock.now();
    const f = (n: string) => opts.rng.fork(n);
    this.rng = { ids: f('ids'), boot: f('boot'), createFail: f('create-failures'), destroyFail: f('destroy-failures'), broken: f('broken'), die: f('die'), spot: f('spot'), faults: f('faults'), vm: f('vm') };
    const rl = this.behavior.rateLimit;
    this.bucket = rl !== null && rl.opsPerSecond > 0 ? new TokenBucket(opts.clock, rl.opsPerSecond, rl.burst) : null;
    for (const t of opts.instanceTypes) {
      if (t.preemptible) continue;
      const p = this.onDemandPrice.get(t.providerType);
      if (p === undefined || t.price < p) this.onDemandPrice.set(t.providerType, t.price);
    }
  }

  // ---- InstanceSet ----

  create(req: CreateRequest): Promise<Instance> {
    return this.call(`creating instance of ${req.type.providerType}`, (what) => {
      const type = req.type;
      if (this.rng.createFail.next() < this.behavior.createFailureRate) {
        throw new TransientError(`${what}: InternalError: simulated create failure`);
      }
      if (this.capacityOutage(type)) {
        throw new CapacityError(`${what}: InsufficientInstanceCapacity: no capacity for ${type.providerType}`, {
          scope: 'type',
          providerType: type.providerType,
          preemptible: type.preemptible,
        });
      }
      if (this.quota.instances !== undefined && this.live.size >= this.quota.instances) {
        throw new QuotaError(`${what}: InstanceLimitExceeded: instance limit ${this.quota.instances} reached`);
      }
      const group = this.instanceQuotaGroup(type);
      const vcpuLimit = this.quota.vcpus?.[group];
      if (vcpuLimit !== undefined && (this.groupVcpus.get(group) ?? 0) + type.vcpus > vcpuLimit) {
        throw new CapacityError(`${what}: VcpuLimitExceeded: vCPU limit ${vcpuLimit} of group ${group} reached`, {
          scope: 'quota-group',
          quotaGroup: group,
        });
      }
      return new SimInstance(this, this.launch(req, false), req.tags);
    });
  }

  instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    return this.call('listing instances', () => {
      const out: Instance[] = [];
      const matches = filter === null ? null : tagMatcher(filter);
      for (const rec of this.live.values()) {
        if (matches !== null && !matches(rec.tags)) continue;
        out.push(new SimInstance(this, rec, rec.tags));
      }
      return out;
    });
  }

  instanceQuotaGroup(type: InstanceType): string {
    const key = type.preemptible ? `${type.providerType}\0spot` : type.providerType;
    let g = this.quotaGroupCache.get(key);
    if (g === undefined) {
      g = ec2QuotaGroup(type.providerType, type.preemptible, this.behavior.quotaGroups);
      this.quotaGroupCache.set(key, g);
    }
    return g;
  }

  /** Nothing to release: the simulated account and its VMs live on without the dispatcher. */
  stop(): void {}

  // ---- called by SimInstance ----

  /** @internal */
  setTags(rec: CloudRecord, tags: InstanceTags): Promise<void> {
    return this.call(`tagging instance ${rec.id}`, (what) => {
      if (this.live.get(rec.id) !== rec) throw new NotFoundError(`${what}: InvalidInstanceID.NotFound`);
      if (rec.foreign) this.touches.push({ at: this.clock.now(), instanceId: rec.id, op: 'setTags' });
      rec.tags = Object.freeze({ ...tags });
    });
  }

  /** @internal */
  destroy(rec: CloudRecord): Promise<void> {
    return this.call(`destroying instance ${rec.id}`, (what) => {
      if (this.live.get(rec.id) !== rec) throw new NotFoundError(`${what}: InvalidInstanceID.NotFound`);
      if (rec.foreign) this.touches.push({ at: this.clock.now(), instanceId: rec.id, op: 'destroy' });
      if (this.rng.destroyFail.next() < this.behavior.destroyFailureRate) {
        throw new TransientError(`${what}: InternalError: simulated destroy failure`);
      }
      if (rec.state === 'shutting-down') return;
      rec.state = 'shutting-down';
      cancelTimers(rec);
      rec.vm.halt('instance destroyed');
      if (!rec.foreign) this.ledger.destroyRequested(rec.id, this.clock.now());
      rec.timers.push(this.clock.setTimer(this.behavior.shutdownMs, () => this.vanish(rec, 'destroyed')));
    });
  }

  // ---- world and fault controls (the scenario runner) ----

  /** Every cloud call fails with TransientError for `forMs` (cloud-api-outage). */
  apiOutage(forMs: number): void {
    this.outageUntil = Math.max(this.outageUntil, this.clock.now() + forMs);
  }

  /** Replace the given parts of the quota (quota fault). */
  setQuota(q: QuotaSpec): void {
    this.quota = { ...this.quota, ...q };
  }

  /** `count` random live instances of this dispatcher vanish without notice (kill-instances). */
  killInstances(count: number): string[] {
    const picked = this.pick(count);
    for (const rec of picked) this.vanish(rec, 'killed');
    return picked.map((r) => r.id);
  }

  /** `count` random live instances are unreachable over SSH for `forMs` (ssh-partition). */
  partitionInstances(count: number, forMs: number): string[] {
    const picked = this.pick(count);
    for (const rec of picked) rec.vm.partition(this.clock.now() + forMs);
    return picked.map((r) => r.id);
  }

  /**
   * An instance of another dispatcher (or a human) in the same account: listed when the
   * filter matches its tags, counted in quotas, never in the ledger. Touching it is
   * recorded in `foreignTouches()`.
   */
  addForeignInstance(type: InstanceType, tags: InstanceTags): string {
    const rec = this.launch({ type, imageId: 'foreign', tags, initCommand: '', publicKey: null }, true);
    return rec.id;
  }

  foreignTouches(): readonly ForeignTouch[] {
    return this.touches;
  }

  /**
   * Give a live instance another address: the simulator's ssh transport points it at its
   * VM's SSH server on loopback. Nothing for an instance that is gone.
   */
  setAddress(instanceId: string, address: string): void {
    const rec = this.live.get(instanceId);
    if (rec === undefined) return;
    this.byAddress.delete(rec.address);
    rec.address = address;
    this.byAddress.set(address, rec);
  }

  /** The VM behind an address (the direct executor's locator); undefined once gone. */
  locate = (target: ExecutorTarget): SimulatedVm | undefined => this.byAddress.get(target.address())?.vm;

  vm(instanceId: string): SimulatedVm | undefined {
    return this.live.get(instanceId)?.vm;
  }

  liveInstanceIds(): string[] {
    return [...this.live.keys()];
  }

  /** Cloud API calls answered so far (rate-limited and failed ones included). */
  apiCalls(): number {
    return this.calls;
  }

  // ---- internals ----

  private async call<T>(what: string, fn: (what: string) => T): Promise<T> {
    this.calls++;
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      if (this.clock.now() < this.outageUntil) throw new TransientError(`${what}: ServiceUnavailable: cloud API outage`);
      const wait = this.bucket?.take() ?? 0;
      if (wait > 0) throw new RateLimitError(`${what}: RequestLimitExceeded: request rate exceeded`, wait);
      outcome = { ok: true, value: fn(what) };
    } catch (e) {
      outcome = { ok: false, error: e };
    }
    if (this.behavior.apiLatencyMs > 0) await this.clock.sleep(this.behavior.apiLatencyMs);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  private launch(req: CreateRequest, foreign: boolean): CloudRecord {
    const now = this.clock.now();
    const type = req.type;
    const id = this.newId();
    const n = this.nextAddress++;
    const address = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    const broken = !foreign && this.behavior.brokenRate > 0 && this.rng.broken.next() < this.behavior.brokenRate;
    const price = this.billedPrice(type);
    const ledger = this.ledger;
    const clock = this.clock;
    const vm = this.opts.createVm({
      instanceId: id,
      type,
      initCommand: req.initCommand,
      publicKey: req.publicKey,
      remoteUser: this.remoteUser,
      broken,
      rng: new LazyRng(() => this.rng.vm.fork(id)),
      hooks: foreign
        ? { ready() {}, busyChanged() {}, containerStarted() {} }
        : {
            ready: () => ledger.ready(id, clock.now()),
            busyChanged: (procs) => ledger.busyChanged(id, procs, clock.now()),
            containerStarted: () => ledger.containerStarted(id, clock.now()),
          },
    });
    const group = this.instanceQuotaGroup(type);
    this.groupVcpus.set(group, (this.groupVcpus.get(group) ?? 0) + type.vcpus);
    const rec: CloudRecord = {
      id,
      type,
      quotaGroup: group,
      address,
      remoteUser: this.remoteUser,
      price,
      foreign,
      state: 'pending',
      tags: Object.freeze({ ...req.tags }),
      vm,
      timers: [],
      createdAt: now,
    };
    this.live.set(id, rec);
    this.byAddress.set(address, rec);
    if (!foreign) {
      this.ledger.opened({ instanceId: id, typeName: type.name, providerType: type.providerType, preemptible: type.preemptible, price, broken, createdAt: now });
    }
    const bootMs = foreign ? 0 : sampleDuration(this.behavior.bootTime, this.rng.boot);
    rec.timers.push(
      clock.setTimer(bootMs, () => {
        rec.state = 'running';
        if (!foreign) this.ledger.booted(id, clock.now());
        void vm.boot();
      }),
    );
    if (!foreign) this.scheduleMisfortunes(rec);
    this.logger.debug('instance created', { instanceId: id, type: type.name, bootMs });
    return rec;
  }

  /** Death and spot interruption are drawn at creation; whichever comes first ends it. */
  private scheduleMisfortunes(rec: CloudRecord): void {
    const death = sampleExponentialMs(this.behavior.dieRatePerHour, this.rng.die);
    const spot = this.behavior.spot;
    const notice = rec.type.preemptible ? sampleExponentialMs(spot.interruptionsPerHour, this.rng.spot) : Infinity;
    if (Number.isFinite(death)) rec.timers.push(this.clock.setTimer(death, () => this.vanish(rec, 'died')));
    if (Number.isFinite(notice)) {
      rec.timers.push(
        this.clock.setTimer(notice, () => {
          const actionAt = this.clock.now() + spot.noticeMs;
          this.ledger.interruptionNotice(rec.id, this.clock.now());
          rec.vm.spotNotice(actionAt);
          rec.timers.push(this.clock.setTimer(spot.noticeMs, () => this.vanish(rec, 'interrupted')));
        }),
      );
    }
  }

  private vanish(rec: CloudRecord, reason: EndReason): void {
    if (this.live.get(rec.id) !== rec) return;
    cancelTimers(rec);
    rec.state = 'terminated';
    rec.vm.halt(`instance ${reason}`);
    this.live.delete(rec.id);
    this.byAddress.delete(rec.address);
    this.groupVcpus.set(rec.quotaGroup, (this.groupVcpus.get(rec.quotaGroup) ?? 0) - rec.type.vcpus);
    if (!rec.foreign) this.ledger.gone(rec.id, this.clock.now(), reason);
    this.logger.debug('instance gone', { instanceId: rec.id, reason });
  }

  private newId(): string {
    for (;;) {
      let hex = '';
      for (let i = 0; i < 17; i++) hex += this.rng.ids.int(0, 15).toString(16);
      const id = `i-${hex}`;
      if (!this.usedIds.has(id)) {
        this.usedIds.add(id);
        return id;
      }
    }
  }

  /** What the cloud bills per hour for an instance of `type` (the spot price for preemptible types). */
  billedPrice(type: InstanceType): number {
    const factor = this.behavior.spot.priceFactor;
    if (!type.preemptible || factor === undefined) return type.price;
    const onDemand = this.onDemandPrice.get(type.providerType);
    return onDemand === undefined ? type.price : onDemand * factor;
  }

  private capacityOutage(type: InstanceType): boolean {
    const t = this.clock.now() - this.startMs;
    for (const w of this.behavior.capacity) {
      if (t < w.from || t >= w.to) continue;
      if (w.types.length === 0 || w.types.includes(type.name) || w.types.includes(type.providerType)) return true;
    }
    return false;
  }

  /** Up to `count` distinct live instances of this dispatcher, chosen by the faults stream. */
  private pick(count: number): CloudRecord[] {
    const pool = [...this.live.values()].filter((r) => !r.foreign && r.state !== 'shutting-down');
    for (let i = 0; i < Math.min(count, pool.length); i++) {
      const j = this.rng.faults.int(i, pool.length - 1);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, Math.max(0, Math.min(count, pool.length)));
  }
}

/**
 * An Rng stream made on first use: most VMs never draw a number, and seeding a
 * generator per instance is a measurable share of a create.
 */
class LazyRng implements Rng {
  private rng: Rng | null = null;

  constructor(private readonly make: () => Rng) {}

  next(): number {
    return this.get().next();
  }

  int(lo: number, hi: number): number {
    return this.get().int(lo, hi);
  }

  fork(name: string): Rng {
    return new LazyRng(() => this.get().fork(name));
  }

  private get(): Rng {
    return (this.rng ??= this.make());
  }
}


function cancelTimers(rec: CloudRecord): void {
  for (const t of rec.timers) t.cancel();
  rec.timers.length = 0;
}
