import type { InstanceType } from '../domain/instance-type.js';
import type { ExecutorTarget, Instance, InstancePrice, InstanceTags } from '../ports/instance-set.js';

/**
 * An Instance that passes every call to `inner`. Decorators (metrics, rate limiting, a
 * different address) extend it and override only what they change.
 */
export class ForwardingInstance implements Instance {
  constructor(protected readonly inner: Instance) {}

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
  setTags(tags: InstanceTags): Promise<void> {
    return this.inner.setTags(tags);
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
