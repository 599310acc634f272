import type { Instance, InstanceSet, InstanceTags, CreateRequest } from '../ports/instance-set.js';
import type { InstanceType } from '../domain/instance-type.js';

/**
 * Adds `CloudVMs.ResourceTags` to every create (Arvados defaultTaggingInstanceSet); the
 * dispatcher's own tags win on conflict, so ResourceTags can never forge an InstanceSetID.
 */
export class DefaultTaggingInstanceSet implements InstanceSet {
  constructor(
    private readonly inner: InstanceSet,
    private readonly resourceTags: InstanceTags,
  ) {}

  create(req: CreateRequest): Promise<Instance> {
    return this.inner.create({ ...req, tags: { ...this.resourceTags, ...req.tags } });
  }

  instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    return this.inner.instances(filter);
  }

  instanceQuotaGroup(type: InstanceType): string {
    return this.inner.instanceQuotaGroup(type);
  }

  stop(): void {
    this.inner.stop();
  }
}
