import type { InstanceType } from '../../core/domain/instance-type.js';
import type { CreateRequest, Instance, InstanceSet, InstanceTags } from '../../core/ports/instance-set.js';

/**
 * Wraps an InstanceSet so a test can make its next create or list fail with a given error
 * (Karpenter's fake cloud provider's "next error"). Used to push core errors through the
 * EC2 endpoint and back through the driver.
 */
export class FaultInjector implements InstanceSet {
  private readonly next: { create: unknown[]; list: unknown[] } = { create: [], list: [] };

  constructor(private readonly inner: InstanceSet) {}

  failNext(op: 'create' | 'list', error: unknown): void {
    this.next[op].push(error);
  }

  create(req: CreateRequest): Promise<Instance> {
    if (this.next.create.length > 0) return Promise.reject(this.next.create.shift());
    return this.inner.create(req);
  }

  instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    if (this.next.list.length > 0) return Promise.reject(this.next.list.shift());
    return this.inner.instances(filter);
  }

  instanceQuotaGroup(type: InstanceType): string {
    return this.inner.instanceQuotaGroup(type);
  }

  stop(): void {
    this.inner.stop();
  }
}
