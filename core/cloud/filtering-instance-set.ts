import { tagMatcher, type Instance, type InstanceSet, type InstanceTags, type CreateRequest } from '../ports/instance-set.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { Logger } from '../ports/logger.js';

/**
 * Drops instances whose tags do not match every tag of the filter (Arvados
 * filteringInstanceSet), so a driver that returns more than asked (another dispatcher's
 * VMs, untagged VMs) can never hand them to the pool.
 */
export class FilteringInstanceSet implements InstanceSet {
  constructor(
    private readonly inner: InstanceSet,
    private readonly logger: Logger,
  ) {}

  create(req: CreateRequest): Promise<Instance> {
    return this.inner.create(req);
  }

  async instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    const all = await this.inner.instances(filter);
    if (filter === null) return all;
    const matches = tagMatcher(filter);
    const kept = all.filter((inst) => matches(inst.tags));
    if (kept.length !== all.length) {
      this.logger.debug('filtered instance list', { returned: kept.length, skipped: all.length - kept.length });
    }
    return kept;
  }

  instanceQuotaGroup(type: InstanceType): string {
    return this.inner.instanceQuotaGroup(type);
  }

  stop(): void {
    this.inner.stop();
  }
}
