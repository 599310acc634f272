import type { Clock } from '../ports/clock.js';
import type { Instance, InstanceSet, InstanceTags, CreateRequest, ExecutorTarget, InstancePrice } from '../ports/instance-set.js';
import type { InstanceType } from '../domain/instance-type.js';

/**
 * One shared pace for every cloud call (Arvados rateLimitedInstanceSet with
 * MaxCloudOpsPerSecond): create, list, destroy and setTags each take the next slot,
 * `1s / opsPerSecond` after the previous one. Slots are handed out in call order, so the
 * limiter is fair and deterministic; an idle limiter lets the next call through at once.
 */
export class RateLimiter {
  private nextSlot = -Infinity;
  private readonly period: number;

  constructor(
    private readonly clock: Clock,
    opsPerSecond: number,
  ) {
    this.period = 1000 / opsPerSecond;
  }

  /** Resolves when the caller may make its call. */
  async wait(): Promise<void> {
    const now = this.clock.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.period;
    if (slot > now) await this.clock.sleep(slot - now);
  }
}

export class RateLimitedInstanceSet implements InstanceSet {
  private readonly limiter: RateLimiter;

  constructor(
    private readonly inner: InstanceSet,
    clock: Clock,
    opsPerSecond: number,
  ) {
    this.limiter = new RateLimiter(clock, opsPerSecond);
  }

  async create(req: CreateRequest): Promise<Instance> {
    await this.limiter.wait();
    return new RateLimitedInstance(await this.inner.create(req), this.limiter);
  }

  async instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    await this.limiter.wait();
    return (await this.inner.instances(filter)).map((i) => new RateLimitedInstance(i, this.limiter));
  }

  instanceQuotaGroup(type: InstanceType): string {
    return this.inner.instanceQuotaGroup(type);
  }

  stop(): void {
    this.inner.stop();
  }
}

/** An instance whose destroy and setTags wait for the shared limiter. */
export class RateLimitedInstance implements Instance {
  constructor(
    private readonly inner: Instance,
    private readonly limiter: RateLimiter,
  ) {}

  get id(): string {
    return this.inner.id;
  }
  get providerType(): string {
    return this.inner.providerType;
  }
  get tags(): InstanceTags {
    return this.inner.tags;
  }
  address(): string {
    return this.inner.address();
  }
  remoteUser(): string {
    return this.inner.remoteUser();
  }
  verifyHostKey(key: Buffer, run: Parameters<ExecutorTarget['verifyHostKey']>[1]): Promise<void> {
    return this.inner.verifyHostKey(key, run);
  }
  priceHistory(type: InstanceType): readonly InstancePrice[] {
    return this.inner.priceHistory(type);
  }
  async setTags(tags: InstanceTags): Promise<void> {
    await this.limiter.wait();
    await this.inner.setTags(tags);
  }
  async destroy(): Promise<void> {
    await this.limiter.wait();
    await this.inner.destroy();
  }
}
