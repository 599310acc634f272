import type { CloudVMsConfig } from '../config/cluster-config.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { Clock, Timer } from '../ports/clock.js';
import { CapacityError, QuotaError } from '../ports/errors.js';
import { Throttle } from './throttle.js';

const QUOTA_ERROR_TTL = 60_000;
const CAPACITY_ERROR_TTL = 60_000;
const CREATE_THROTTLE_MS = 5_000;

/**
 * When the pool may create a VM (Arvados pool.go Create/AtQuota/AtCapacity): MaxInstances,
 * quota errors (until there are fewer instances, or a minute when there were none),
 * capacity errors (type, quota group or everything, for a minute), rate limits (until the
 * cloud's retry time) and the 5 s throttle when MaxConcurrentInstanceCreateOps are in flight.
 * Each expiry notifies, so the scheduler tries again.
 */
export class CreateLimits {
  readonly throttle: Throttle;
  private readonly capacityUntil = new Map<string, number>();
  private quotaUntilFewerInstances = 0;
  private quotaUntil = 0;
  private readonly timers = new Set<Timer>();

  constructor(
    private readonly clock: Clock,
    private readonly cfg: Pick<CloudVMsConfig, 'MaxInstances' | 'MaxConcurrentInstanceCreateOps'>,
    private readonly quotaGroup: (type: InstanceType) => string,
    private readonly notify: () => void,
  ) {
    this.throttle = new Throttle(clock, notify);
  }

  /** `instances`: workers (shutdown ones included) plus creates in flight. */
  atQuota(instances: number): boolean {
    if (this.quotaUntilFewerInstances > 0) return true;
    if (this.clock.now() < this.quotaUntil) return true;
    return this.cfg.MaxInstances > 0 && this.cfg.MaxInstances <= instances;
  }

  atCapacity(type: InstanceType): boolean {
    return this.blocks(this.capacityUntil, this.clock.now(), type);
  }

  /** A frozen copy of the capacity check, for a snapshot. */
  capacityAt(): (type: InstanceType) => boolean {
    if (this.capacityUntil.size === 0) return () => false;
    const m = new Map(this.capacityUntil);
    const now = this.clock.now();
    return (type) => this.blocks(m, now, type);
  }

  createBlocked(creating: number): boolean {
    const max = this.cfg.MaxConcurrentInstanceCreateOps;
    return this.throttle.active() || (max > 0 && creating >= max);
  }

  /** May a create of `type` start now? Arms the 5 s throttle when too many are in flight. */
  admit(type: InstanceType, instances: number, creating: number): boolean {
    if (this.atCapacity(type) || this.atQuota(instances) || this.throttle.active()) return false;
    const max = this.cfg.MaxConcurrentInstanceCreateOps;
    if (max > 0 && creating >= max) {
      this.throttle.errorUntil(new Error('reached MaxConcurrentInstanceCreateOps'), this.clock.now() + CREATE_THROTTLE_MS);
      this.notify();
      return false;
    }
    return true;
  }

  /** A create failed; `instances` still counts the failed create. */
  failed(type: InstanceType, e: unknown, instances: number): void {
    const now = this.clock.now();
    if (e instanceof QuotaError) {
      const n = instances - 1;
      if (n < 1) {
        this.quotaUntilFewerInstances = 0;
        this.quotaUntil = now + QUOTA_ERROR_TTL;
        this.notifyAfter(QUOTA_ERROR_TTL);
      } else if (this.quotaUntilFewerInstances === 0 || n < this.quotaUntilFewerInstances) {
        this.quotaUntilFewerInstances = n;
        this.quotaUntil = 0;
      }
    }
    if (e instanceof CapacityError) {
      const c = e.capacity;
      const key = c.scope === 'type' ? typeKey(type) : c.scope === 'quota-group' ? `group:${this.quotaGroup(type)}` : 'all';
      this.capacityUntil.set(key, now + CAPACITY_ERROR_TTL);
      this.notifyAfter(CAPACITY_ERROR_TTL);
    }
    this.throttle.checkRateLimitError(e);
  }

  /** After a listing: a quota error clears once there are fewer instances. True if it cleared. */
  synced(instances: number): boolean {
    if (this.quotaUntilFewerInstances > instances) {
      this.quotaUntilFewerInstances = 0;
      return true;
    }
    return false;
  }

  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.throttle.stop();
  }

  private blocks(m: ReadonlyMap<string, number>, now: number, type: InstanceType): boolean {
    if (m.size === 0) return false;
    for (const key of ['all', `group:${this.quotaGroup(type)}`, typeKey(type)]) {
      const until = m.get(key);
      if (until !== undefined && now < until) return true;
    }
    return false;
  }

  private notifyAfter(ms: number): void {
    const t = this.clock.setTimer(ms, () => {
      this.timers.delete(t);
      this.notify();
    });
    this.timers.add(t);
  }
}

/** Provider type, with `-preemptible` for spot: Arvados' key for type-specific capacity errors. */
function typeKey(t: InstanceType): string {
  return `type:${t.providerType}${t.preemptible ? '-preemptible' : ''}`;
}
