import { CreateTagsCommand, TerminateInstancesCommand, type EC2Client, type Instance as SdkInstance } from '@aws-sdk/client-ec2';
import type { InstanceType } from '../../core/domain/instance-type.js';
import { NotImplementedError } from '../../core/ports/errors.js';
import type { Instance, InstancePrice, InstanceTags } from '../../core/ports/instance-set.js';
import { toDispatchError, type ThrottleBackoff } from './error-table.js';
import type { SpotPriceCache } from './spot-prices.js';

/** What an Ec2Instance shares with the instance set that listed it. */
export interface Ec2InstanceContext {
  readonly client: EC2Client;
  readonly adminUsername: string;
  /** Per GiB-month, added to spot prices for the AddedScratch volume. */
  readonly ebsPrice: number;
  readonly spotPrices: SpotPriceCache;
  /** Back-off for CreateTags and TerminateInstances throttling. */
  readonly backoff: ThrottleBackoff;
}

const GiB = 1024 ** 3;

/**
 * Tags of a DescribeInstances/RunInstances instance as a map. Built with
 * `Object.fromEntries` so that any key the cloud returns, `__proto__` included, is an own
 * property and never reaches an object's prototype.
 */
export function sdkTags(i: SdkInstance): Record<string, string> {
  return Object.fromEntries((i.Tags ?? []).flatMap((t) => (t.Key === undefined ? [] : [[t.Key, t.Value ?? '']])));
}

/**
 * One EC2 instance as last listed. Address is the private IP address, passed through
 * verbatim (the simulated endpoint may give `host:port`).
 */
export class Ec2Instance implements Instance {
  readonly id: string;
  readonly providerType: string;
  readonly tags: InstanceTags;
  readonly spot: boolean;
  readonly availabilityZone: string;
  readonly subnetId: string;
  private readonly privateIp: string;

  constructor(
    private readonly ctx: Ec2InstanceContext,
    raw: SdkInstance,
  ) {
    if (raw.InstanceId === undefined || raw.InstanceId === '') {
      throw new Error('reading EC2 instance: the response has no InstanceId');
    }
    this.id = raw.InstanceId;
    this.providerType = raw.InstanceType ?? '';
    this.tags = Object.freeze(sdkTags(raw));
    this.spot = raw.InstanceLifecycle === 'spot';
    this.availabilityZone = raw.Placement?.AvailabilityZone ?? '';
    this.privateIp = raw.PrivateIpAddress ?? '';
    this.subnetId = raw.SubnetId ?? '';
  }

  toString(): string {
    return this.id;
  }

  /** Keeps the SDK client (and its credentials) out of logs and console output. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Ec2Instance(${this.id} ${this.providerType}${this.spot ? ' spot' : ''} ${this.privateIp || 'no address'})`;
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, providerType: this.providerType, tags: this.tags, spot: this.spot, address: this.privateIp };
  }

  address(): string {
    return this.privateIp;
  }

  remoteUser(): string {
    return this.ctx.adminUsername;
  }

  /** EC2 offers no trustworthy host key channel; the pool checks the instance secret instead. */
  verifyHostKey(): Promise<void> {
    return Promise.reject(new NotImplementedError('verifying host key: the EC2 driver has no mechanism'));
  }

  /**
   * CreateTags with every given tag. EC2 adds and overwrites but never removes tags, as in
   * Arvados; the pool always passes the complete set, so this is a replace in practice.
   */
  async setTags(tags: InstanceTags): Promise<void> {
    try {
      await this.ctx.client.send(
        new CreateTagsCommand({
          Resources: [this.id],
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      this.ctx.backoff.reset();
    } catch (e) {
      throw toDispatchError(e, { doing: `tagging instance ${this.id}`, backoff: this.ctx.backoff });
    }
  }

  async destroy(): Promise<void> {
    try {
      await this.ctx.client.send(new TerminateInstancesCommand({ InstanceIds: [this.id] }));
      this.ctx.backoff.reset();
    } catch (e) {
      throw toDispatchError(e, { doing: `destroying instance ${this.id}`, backoff: this.ctx.backoff });
    }
  }

  /**
   * Spot prices of this instance's type in its zone, plus the hourly cost of its
   * AddedScratch volume. On-demand instances return [] so callers use the type's Price.
   */
  priceHistory(type: InstanceType): readonly InstancePrice[] {
    if (!this.spot) return [];
    const ebsPerHour = (this.ctx.ebsPrice * Math.ceil(type.addedScratch / GiB)) / 30 / 24;
    return this.ctx.spotPrices
      .get(this.providerType, this.availabilityZone)
      .map((p) => ({ startTime: p.startTime, price: p.price + ebsPerHour }));
  }
}
