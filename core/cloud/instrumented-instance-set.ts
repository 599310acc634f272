import type { Instance, InstanceSet, InstanceTags, CreateRequest } from '../ports/instance-set.js';
import { ForwardingInstance } from './forwarding-instance.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { Counter, Metrics } from '../ports/metrics.js';

type Operation = 'Create' | 'List' | 'Destroy' | 'SetTags';

/** Counts cloud calls as `driver_operations{operation, error}` (Arvados instrumentedInstanceSet). */
export class InstrumentedInstanceSet implements InstanceSet {
  private readonly ops: Counter;

  constructor(
    private readonly inner: InstanceSet,
    metrics: Metrics,
  ) {
    this.ops = metrics.counter('driver_operations', 'Number of instance-create/destroy/list/settags operations performed via cloud driver.', ['operation', 'error']);
    for (const op of ['Create', 'List', 'Destroy', 'SetTags']) for (const e of ['0', '1']) this.ops.inc({ operation: op, error: e }, 0);
  }

  async count<T>(op: Operation, p: Promise<T>): Promise<T> {
    try {
      const r = await p;
      this.ops.inc({ operation: op, error: '0' });
      return r;
    } catch (e) {
      this.ops.inc({ operation: op, error: '1' });
      throw e;
    }
  }

  async create(req: CreateRequest): Promise<Instance> {
    return new InstrumentedInstance(await this.count('Create', this.inner.create(req)), this);
  }

  async instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    return (await this.count('List', this.inner.instances(filter))).map((i) => new InstrumentedInstance(i, this));
  }

  instanceQuotaGroup(type: InstanceType): string {
    return this.inner.instanceQuotaGroup(type);
  }

  stop(): void {
    this.inner.stop();
  }
}

class InstrumentedInstance extends ForwardingInstance {
  constructor(
    inner: Instance,
    private readonly set: InstrumentedInstanceSet,
  ) {
    super(inner);
  }
  override setTags(tags: InstanceTags): Promise<void> {
    return this.set.count('SetTags', this.inner.setTags(tags));
  }
  override destroy(): Promise<void> {
    return this.set.count('Destroy', this.inner.destroy());
  }
}
