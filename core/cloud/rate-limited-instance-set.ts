import type { Clock } from '../ports/clock.js';
import type { Instance, InstanceSet, InstanceTags, CreateRequest } from '../ports/instance-set.js';
import { ForwardingInstance } from './forwarding-instance.js';
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
export class RateLimitedInstance extends ForwardingInstance {
  constructor(
    inner: Instance,
    private readonly limiter: RateLimiter,
  ) {
    super(inner);
  }
  override async setTags(tags: InstanceTags): Promise<void> {
    await this.limiter.wait();
    await this.inner.setTags(tags);
  }
  override async destroy(): Promise<void> {
    await this.limiter.wait();
    await this.inner.destroy();
  }
}
