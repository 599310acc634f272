import type { InstanceType } from '../../core/domain/instance-type.js';
import type { CreateRequest, Instance, InstancePrice, InstanceSet, InstanceTags } from '../../core/ports/instance-set.js';

/**
 * An instance set whose instances report the address of their VM's SSH server on loopback
 * (`127.0.0.1:PORT`) instead of the simulated cloud's private 10.x address, so that a
 * dispatcher in another process reaches them with its unchanged SSH executor (the same
 * trick as cloudtest's SshLoopbackInstanceSet, over the full simulated cloud). An instance
 * whose server is not listening yet has no address (`''`), as a pending EC2 instance has none.
 */
export class LoopbackAddressedSet implements InstanceSet {
  constructor(
    private readonly inner: InstanceSet,
    /** The VM's `127.0.0.1:PORT`, or '' while its SSH server is not listening. */
    private readonly addressOf: (instanceId: string) => string,
  ) {}

  async create(req: CreateRequest): Promise<Instance> {
    return new LoopbackInstance(await this.inner.create(req), this.addressOf);
  }

  async instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    return (await this.inner.instances(filter)).map((i) => new LoopbackInstance(i, this.addressOf));
  }

  instanceQuotaGroup(type: InstanceType): string {
    return this.inner.instanceQuotaGroup(type);
  }

  stop(): void {
    this.inner.stop();
  }
}

class LoopbackInstance implements Instance {
  readonly id: string;
  readonly providerType: string;
  readonly tags: InstanceTags;

  constructor(
    private readonly inner: Instance,
    private readonly addressOf: (instanceId: string) => string,
  ) {
    this.id = inner.id;
    this.providerType = inner.providerType;
    this.tags = inner.tags;
  }

  address(): string {
    return this.addressOf(this.id);
  }

  remoteUser(): string {
    return this.inner.remoteUser();
  }

  verifyHostKey(key: Buffer, run: (command: string) => Promise<{ stdout: Buffer; stderr: Buffer }>): Promise<void> {
    return this.inner.verifyHostKey(key, run);
  }

  setTags(tags: InstanceTags): Promise<void> {
    return this.inner.setTags(tags);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  priceHistory(type: InstanceType): readonly InstancePrice[] {
    return this.inner.priceHistory(type);
  }

  toString(): string {
    return `${this.id} (${this.address() || 'no address'})`;
  }
}
