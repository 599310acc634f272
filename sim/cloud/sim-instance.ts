import type { Timer } from '../../core/ports/clock.js';
import { NotImplementedError } from '../../core/ports/errors.js';
import type { Instance, InstancePrice, InstanceTags } from '../../core/ports/instance-set.js';
import type { InstanceType } from '../../core/domain/instance-type.js';
import type { SimulatedVm } from '../vm/simulated-vm.js';

/** EC2's instance states; `terminated` instances are gone from every listing. */
export type CloudInstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated';

/** The cloud's own record of one instance (mutable; snapshots copy what they expose). */
export interface CloudRecord {
  readonly id: string;
  readonly type: InstanceType;
  readonly quotaGroup: string;
  /** Fixed at creation, unless the simulator's ssh transport moves it to the VM's SSH server. */
  address: string;
  readonly remoteUser: string;
  /** Billed per hour. */
  readonly price: number;
  /** Created by someone else (addForeignInstance): never in the ledger. */
  readonly foreign: boolean;
  state: CloudInstanceState;
  tags: InstanceTags;
  readonly vm: SimulatedVm;
  readonly timers: Timer[];
  readonly createdAt: number;
}

/**
 * One shared error: every connection to a booting VM asks again (tens of thousands of times
 * in a long replay), and capturing a stack each time cost more than the rest of the check.
 * Callers only test its class; none keeps or changes it.
 */
const NO_HOST_KEY_CHECK = new NotImplementedError('verifying host key: not implemented by the simulated cloud');

/** The operations a snapshot forwards to its cloud (rate limits, outages and failures apply). */
export interface InstanceOps {
  setTags(rec: CloudRecord, tags: InstanceTags): Promise<void>;
  destroy(rec: CloudRecord): Promise<void>;
}

/**
 * One instance as a create or list call returned it: `tags` is the snapshot of that call
 * (the reference's stale-tags behaviour); the address is fixed at creation.
 */
export class SimInstance implements Instance {
  readonly id: string;
  readonly providerType: string;

  constructor(
    private readonly ops: InstanceOps,
    private readonly rec: CloudRecord,
    readonly tags: InstanceTags,
  ) {
    this.id = rec.id;
    this.providerType = rec.type.providerType;
  }

  address(): string {
    return this.rec.address;
  }

  remoteUser(): string {
    return this.rec.remoteUser;
  }

  /** Like EC2: no driver-side host key check, so the pool verifies the instance secret. */
  verifyHostKey(): Promise<void> {
    return Promise.reject(NO_HOST_KEY_CHECK);
  }

  setTags(tags: InstanceTags): Promise<void> {
    return this.ops.setTags(this.rec, tags);
  }

  destroy(): Promise<void> {
    return this.ops.destroy(this.rec);
  }

  /** Spot instances: their price since creation (EC2 gives no history for on-demand ones). */
  priceHistory(_type: InstanceType): readonly InstancePrice[] {
    if (!this.rec.type.preemptible) return [];
    return [{ startTime: this.rec.createdAt, price: this.rec.price }];
  }

  toString(): string {
    return this.id;
  }
}
