import type { InstanceType } from '../../core/domain/instance-type.js';
import { ForwardingInstance } from '../../core/cloud/forwarding-instance.js';
import type { CreateRequest, Instance, InstanceSet, InstanceTags } from '../../core/ports/instance-set.js';

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

class LoopbackInstance extends ForwardingInstance {
  constructor(
    inner: Instance,
    private readonly addressOf: (instanceId: string) => string,
  ) {
    super(inner);
  }

  override address(): string {
    return this.addressOf(this.id);
  }

  override toString(): string {
    return `${this.id} (${this.address() || 'no address'})`;
  }
}
