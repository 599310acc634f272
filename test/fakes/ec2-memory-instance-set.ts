import type { InstanceType } from '../../core/domain/instance-type.js';
import { NotFoundError, QuotaError } from '../../core/ports/errors.js';
import { tagMatcher, type CreateRequest, type Instance, type InstancePrice, type InstanceSet, type InstanceTags } from '../../core/ports/instance-set.js';

interface Stored {
  readonly id: string;
  readonly providerType: string;
  tags: Record<string, string>;
  readonly address: string;
  readonly req: CreateRequest;
}

/**
 * A small in-memory InstanceSet: instances get an address at once, destroy removes them,
 * and `maxInstances` makes create fail with QuotaError. Used to test the EC2 endpoint
 * without the simulated cloud. `created` keeps every request, for assertions.
 */
export class MemoryInstanceSet implements InstanceSet {
  readonly created: CreateRequest[] = [];
  private readonly stored = new Map<string, Stored>();
  private next = 0;

  /** `linger`: destroyed instances stay listed until `reap()`, as a cloud shutting them down. */
  constructor(private readonly opts: { maxInstances?: number; linger?: boolean } = {}) {}

  private readonly destroyed = new Set<string>();

  /** Forget destroyed instances (with `linger`). */
  reap(): void {
    for (const id of this.destroyed) this.stored.delete(id);
    this.destroyed.clear();
  }

  create(req: CreateRequest): Promise<Instance> {
    if (this.opts.maxInstances !== undefined && this.stored.size - this.destroyed.size >= this.opts.maxInstances) {
      return Promise.reject(new QuotaError(`creating instance: at the quota of ${this.opts.maxInstances} instances`));
    }
    this.next++;
    const s: Stored = {
      id: `i-${this.next.toString(16).padStart(17, '0')}`,
      providerType: req.type.providerType,
      tags: { ...req.tags },
      address: `10.0.${Math.floor(this.next / 250)}.${(this.next % 250) + 1}`,
      req,
    };
    this.stored.set(s.id, s);
    this.created.push(req);
    return Promise.resolve(this.view(s));
  }

  instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    const out: Instance[] = [];
    for (const s of this.stored.values()) {
      if (filter !== null && !tagMatcher(filter)(s.tags)) continue;
      out.push(this.view(s));
    }
    return Promise.resolve(out);
  }

  instanceQuotaGroup(type: InstanceType): string {
    return type.preemptible ? 'all-spot' : 'all';
  }

  stop(): void {}

  private view(s: Stored): Instance {
    const set = this.stored;
    const destroyed = this.destroyed;
    const linger = this.opts.linger === true;
    return {
      id: s.id,
      providerType: s.providerType,
      tags: Object.freeze({ ...s.tags }),
      address: () => s.address,
      remoteUser: () => 'root',
      verifyHostKey: () => Promise.resolve(),
      setTags(tags: InstanceTags): Promise<void> {
        if (!set.has(s.id)) return Promise.reject(new NotFoundError(`tagging instance ${s.id}: no such instance`));
        s.tags = { ...tags };
        return Promise.resolve();
      },
      destroy(): Promise<void> {
        if (!set.has(s.id) || destroyed.has(s.id)) return Promise.reject(new NotFoundError(`destroying instance ${s.id}: no such instance`));
        if (linger) destroyed.add(s.id);
        else set.delete(s.id);
        return Promise.resolve();
      },
      priceHistory: (type: InstanceType): readonly InstancePrice[] => [{ startTime: 0, price: type.price }],
    };
  }
}
