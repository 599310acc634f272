import { createHash } from 'node:crypto';
import type { InstanceType } from '../../core/domain/instance-type.js';
import type { Clock } from '../../core/ports/clock.js';
import { HostKeyError, NotFoundError, NotImplementedError } from '../../core/ports/errors.js';
import { tagMatcher, type CreateRequest, type ExecutorTarget, type Instance, type InstancePrice, type InstanceSet, type InstanceTags } from '../../core/ports/instance-set.js';

/** One crunch-run process on a fake VM. */
export interface FakeProcess {
  /** When it exits by itself (ms); Infinity = runs until killed. */
  endAt: number;
  /** Ignores SIGTERM. */
  unkillable: boolean;
}

/**
 * A VM of the fake cloud, with just enough of a machine to answer the pool's commands
 * (see FakeExecutor): a boot time, an installed runner, crunch-run processes and lock
 * files, a broken marker and the instance secret written by the init command.
 */
export class FakeVm {
  tags: Record<string, string>;
  alive = true;
  destroyRequested = 0;
  /** Boot probe passes from this time on. */
  bootAt: number;
  /** Host key presented over SSH; change it to force re-verification. */
  hostKey: Buffer;
  /** Contents of /var/run/arvados-instance-secret ('' when there is none). */
  secretFile: string;
  runnerMd5: string | null = null;
  /** Answers `crunch-run --list` and friends even without a deployed runner (installed image). */
  crunchRunInstalled = true;
  readonly processes = new Map<string, FakeProcess>();
  /** uuid → lock held by a dead process (`<uuid> stale`). */
  readonly staleLocks = new Set<string>();
  broken = false;
  /** The driver vouches for host keys itself (else NotImplementedError). */
  driverVerifies: ((key: Buffer) => boolean) | null = null;
  priceHistory: InstancePrice[] = [];

  constructor(
    readonly id: string,
    readonly providerType: string,
    tags: InstanceTags,
    readonly address: string,
    readonly remoteUser: string,
    readonly createdAt: number,
    bootDelayMs: number,
    readonly foreign: boolean,
    readonly createRequest: CreateRequest | null,
  ) {
    this.tags = { ...tags };
    this.bootAt = createdAt + bootDelayMs;
    this.hostKey = Buffer.from(`hostkey-${id}`);
    const m = createRequest?.initCommand.match(/echo -n "([0-9a-f]+)" >\/var\/run\/arvados-instance-secret/);
    this.secretFile = m?.[1] ?? '';
  }
}

export type CloudOp = 'create' | 'list' | 'destroy' | 'setTags';

export interface FakeCloudOptions {
  readonly bootDelayMs?: number;
  readonly createLatencyMs?: number;
  readonly listLatencyMs?: number;
  /** Time from an accepted destroy to the VM leaving the listing. */
  readonly destroyLatencyMs?: number;
  readonly remoteUser?: string;
  /** Return every VM from `instances()`, ignoring the filter (a sloppy driver). */
  readonly ignoreFilter?: boolean;
  readonly quotaGroup?: (type: InstanceType) => string;
}

/**
 * A scripted InstanceSet for pool tests (STYLE.md item 9): real code that keeps VMs,
 * records every call, injects the next error per operation, can hold creates, and lets a
 * test make VMs vanish or plant VMs that belong to someone else.
 */
export class FakeCloud implements InstanceSet {
  readonly vms = new Map<string, FakeVm>();
  private readonly byAddress = new Map<string, FakeVm>();
  readonly calls = { create: [] as CreateRequest[], list: 0, destroy: [] as string[], setTags: [] as { id: string; tags: InstanceTags }[] };
  /** Calls that touched a VM marked foreign: must stay empty. */
  readonly foreignTouches: string[] = [];
  private readonly failures: Record<CloudOp, unknown[]> = { create: [], list: [], destroy: [], setTags: [] };
  /** Create the VM but still fail the call (a timeout after the cloud acted). */
  private createdThenFail: unknown[] = [];
  private paused: (() => void)[] | null = null;
  private n = 0;

  constructor(
    private readonly clock: Clock,
    private readonly opts: FakeCloudOptions = {},
  ) {}

  /** The next call of `op` rejects with `err` (queued; one per call). */
  failNext(op: CloudOp, err: unknown): void {
    this.failures[op].push(err);
  }

  /** The next create makes a VM and then rejects with `err`. */
  createThenFail(err: unknown): void {
    this.createdThenFail.push(err);
  }

  /** Hold every create until the returned function is called. */
  pauseCreates(): () => void {
    this.paused ??= [];
    return () => {
      const waiting = this.paused ?? [];
      this.paused = null;
      for (const go of waiting) go();
    };
  }

  /** A VM this cloud account holds that the pool did not create (another dispatcher's, or ours from before a restart). */
  addVm(providerType: string, tags: InstanceTags, opts: { foreign?: boolean; bootDelayMs?: number; secret?: string } = {}): FakeVm {
    const vm = this.newVm(providerType, tags, opts.foreign ?? false, null, opts.bootDelayMs ?? 0);
    if (opts.secret !== undefined) vm.secretFile = opts.secret;
    return vm;
  }

  /** The VM disappears without a destroy call (spot interruption, operator). */
  vanish(id: string): void {
    const vm = this.vms.get(id);
    if (vm === undefined) return;
    vm.alive = false;
    this.vms.delete(id);
  }

  vmByAddress(address: string): FakeVm | undefined {
    return this.byAddress.get(address);
  }

  liveVms(): FakeVm[] {
    return [...this.vms.values()].filter((v) => v.alive);
  }

  async create(req: CreateRequest): Promise<Instance> {
    this.calls.create.push(req);
    if (this.paused !== null) await new Promise<void>((r) => this.paused!.push(r));
    if (this.opts.createLatencyMs) await this.clock.sleep(this.opts.createLatencyMs);
    const err = this.failures.create.shift();
    if (err !== undefined) throw err;
    const vm = this.newVm(req.type.providerType, req.tags, false, req, this.opts.bootDelayMs ?? 0);
    const late = this.createdThenFail.shift();
    if (late !== undefined) throw late;
    return new FakeInstance(this, vm);
  }

  async instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    this.calls.list++;
    const err = this.failures.list.shift();
    // The answer reflects the cloud when the request arrived, and travels back for listLatencyMs.
    const out: Instance[] = [];
    for (const vm of this.vms.values()) {
      if (!vm.alive) continue;
      if (filter !== null && !this.opts.ignoreFilter && !tagMatcher(filter)(vm.tags)) continue;
      out.push(new FakeInstance(this, vm));
    }
    if (this.opts.listLatencyMs) await this.clock.sleep(this.opts.listLatencyMs);
    if (err !== undefined) throw err;
    return out;
  }

  instanceQuotaGroup(type: InstanceType): string {
    if (this.opts.quotaGroup) return this.opts.quotaGroup(type);
    return `${type.providerType.slice(0, 1).toLowerCase()}${type.preemptible ? '-p' : ''}`;
  }

  stop(): void {}

  /** @internal */
  async destroyVm(vm: FakeVm): Promise<void> {
    this.calls.destroy.push(vm.id);
    if (vm.foreign) this.foreignTouches.push(`destroy ${vm.id}`);
    const err = this.failures.destroy.shift();
    if (err !== undefined) throw err;
    if (!vm.alive) throw new NotFoundError(`destroying ${vm.id}: no such instance`);
    vm.destroyRequested = this.clock.now();
    const gone = () => {
      vm.alive = false;
      this.vms.delete(vm.id);
    };
    if (this.opts.destroyLatencyMs) this.clock.setTimer(this.opts.destroyLatencyMs, gone);
    else gone();
  }

  /** @internal */
  async setVmTags(vm: FakeVm, tags: InstanceTags): Promise<void> {
    this.calls.setTags.push({ id: vm.id, tags: { ...tags } });
    if (vm.foreign) this.foreignTouches.push(`setTags ${vm.id}`);
    const err = this.failures.setTags.shift();
    if (err !== undefined) throw err;
    if (!vm.alive) throw new NotFoundError(`tagging ${vm.id}: no such instance`);
    vm.tags = { ...tags };
  }

  private newVm(providerType: string, tags: InstanceTags, foreign: boolean, req: CreateRequest | null, bootDelayMs: number): FakeVm {
    this.n++;
    const id = `i-${this.n.toString(16).padStart(8, '0')}`;
    const address = `10.${(this.n >> 16) & 255}.${(this.n >> 8) & 255}.${this.n & 255}`;
    const vm = new FakeVm(id, providerType, tags, address, this.opts.remoteUser ?? 'root', this.clock.now(), bootDelayMs, foreign, req);
    this.vms.set(id, vm);
    this.byAddress.set(address, vm);
    return vm;
  }
}

/** A listing's view of a FakeVm: tags are a snapshot, as the port says. */
export class FakeInstance implements Instance {
  readonly id: string;
  readonly providerType: string;
  readonly tags: InstanceTags;

  constructor(
    private readonly cloud: FakeCloud,
    readonly vm: FakeVm,
  ) {
    this.id = vm.id;
    this.providerType = vm.providerType;
    this.tags = { ...vm.tags };
  }

  address(): string {
    return this.vm.address;
  }
  remoteUser(): string {
    return this.vm.remoteUser;
  }
  async verifyHostKey(key: Buffer, _run: Parameters<ExecutorTarget['verifyHostKey']>[1]): Promise<void> {
    const check = this.vm.driverVerifies;
    if (check === null) throw new NotImplementedError('verifying host key: fake driver has no mechanism');
    if (!check(key)) throw new HostKeyError('verifying host key: driver refused');
  }
  setTags(tags: InstanceTags): Promise<void> {
    return this.cloud.setVmTags(this.vm, tags);
  }
  destroy(): Promise<void> {
    return this.cloud.destroyVm(this.vm);
  }
  priceHistory(_type: InstanceType): readonly InstancePrice[] {
    return this.vm.priceHistory;
  }
}

export function md5hex(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}
