import {
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
  RunInstancesCommand,
  type Filter,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import type { InstanceType } from '../../core/domain/instance-type.js';
import type { Clock } from '../../core/ports/clock.js';
import { CapacityError } from '../../core/ports/errors.js';
import type { CreateRequest, Instance, InstanceSet, InstanceTags } from '../../core/ports/instance-set.js';
import type { Logger } from '../../core/ports/logger.js';
import { nullMetrics, type Metrics } from '../../core/ports/metrics.js';
import { parseDriverParams, type Ec2DriverParams } from './driver-params.js';
import { Ec2Instance, type Ec2InstanceContext } from './ec2-instance.js';
import { ec2ErrorParts, isSubnetSpecific, ThrottleBackoff, toDispatchError } from './error-table.js';
import { KeyPairs } from './key-pairs.js';
import { ec2QuotaGroup } from './quota-group.js';
import { SpotPriceCache, type SpotPricePoint } from './spot-prices.js';

export interface Ec2InstanceSetOptions {
  readonly params: Ec2DriverParams;
  readonly instanceSetId: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics?: Metrics;
  /** Endpoint override (e.g. the simulated EC2 endpoint on loopback); default params.Endpoint. */
  readonly endpoint?: string;
  /** Overrides DriverParameters' keys; without either, the SDK's default credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** DescribeInstances page size (EC2 accepts 5 to 1000). */
  readonly listPageSize?: number;
  /** Per-request timeout (ms); default 60 s. */
  readonly requestTimeoutMs?: number;
}

const GiB = 1024 ** 3;
const GONE_STATES = new Set(['shutting-down', 'terminated']);

/**
 * The production EC2 driver (Arvados lib/cloud/ec2): the InstanceSet port over
 * @aws-sdk/client-ec2. The SDK never retries (maxAttempts 1): the core owns retries, told
 * by RateLimitError when to come back. Errors are classified in error-table.ts.
 */
export class Ec2InstanceSet implements InstanceSet {
  private readonly client: EC2Client;
  private readonly params: Ec2DriverParams;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly createBackoff = new ThrottleBackoff();
  private readonly listBackoff = new ThrottleBackoff();
  private readonly keyPairs: KeyPairs;
  private readonly spotPrices: SpotPriceCache;
  private readonly ctx: Ec2InstanceContext;
  private readonly pageSize: number;
  private subnetIndex = 0;
  private readonly starts;
  private readonly instancesGauge;

  constructor(opts: Ec2InstanceSetOptions) {
    this.params = opts.params;
    this.log = opts.logger.child({ driver: 'ec2', instanceSetId: opts.instanceSetId });
    this.clock = opts.clock;
    this.pageSize = Math.min(1000, Math.max(5, opts.listPageSize ?? 1000));
    const p = opts.params;
    const endpoint = opts.endpoint ?? (p.Endpoint !== '' ? p.Endpoint : undefined);
    const credentials =
      opts.credentials ??
      (p.AccessKeyID !== '' ? { accessKeyId: p.AccessKeyID, secretAccessKey: p.SecretAccessKey } : undefined);
    this.client = new EC2Client({
      ...(p.Region !== '' ? { region: p.Region } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(credentials !== undefined ? { credentials } : {}),
      maxAttempts: 1,
      requestHandler: { requestTimeout: opts.requestTimeoutMs ?? 60_000, connectionTimeout: 10_000 },
    });
    this.keyPairs = new KeyPairs(this.client);
    this.spotPrices = new SpotPriceCache(p.SpotPriceUpdateInterval);
    this.ctx = {
      client: this.client,
      adminUsername: p.AdminUsername,
      ebsPrice: p.EBSPrice,
      spotPrices: this.spotPrices,
      backoff: new ThrottleBackoff(),
    };
    const metrics = opts.metrics ?? nullMetrics;
    this.starts = metrics.counter('ec2_instance_starts_total', 'RunInstances attempts by subnet and outcome', ['subnet_id', 'success']);
    this.instancesGauge = metrics.gauge('ec2_instances', 'Instances listed, by subnet', ['subnet_id']);
  }

  instanceQuotaGroup(type: InstanceType): string {
    return ec2QuotaGroup(type.providerType, type.preemptible, this.params.InstanceTypeQuotaGroups);
  }

  async create(req: CreateRequest): Promise<Instance> {
    const type = req.type;
    const errCtx = { doing: `creating ${type.providerType} instance`, backoff: this.createBackoff, type, quotaGroup: this.instanceQuotaGroup(type) };
    let keyName: string | undefined;
    if (req.publicKey !== null) {
      try {
        keyName = await this.keyPairs.nameFor(req.publicKey);
      } catch (e) {
        throw toDispatchError(e, { ...errCtx, doing: 'importing the dispatcher key pair' });
      }
    }
    const input = this.runInstancesInput(req, keyName);
    const subnets = this.params.SubnetIDs;
    const attempts = Math.max(1, subnets.length);
    const start = this.subnetIndex;
    let lastErr: unknown;
    let lastCapacityErr: Error | undefined;
    for (let i = 0; i < attempts; i++) {
      const idx = (start + i) % attempts;
      const subnet = subnets[idx];
      const nic = input.NetworkInterfaces?.[0];
      if (nic !== undefined) nic.SubnetId = subnet;
      // Remembered even on failure, so the next create starts where this one stopped and
      // each subnet's errors get surfaced in turn.
      this.subnetIndex = idx;
      let out;
      try {
        out = await this.client.send(new RunInstancesCommand(input));
      } catch (e) {
        this.starts.inc({ subnet_id: subnet ?? '', success: '0' });
        lastErr = e;
        const { code, message } = ec2ErrorParts(e);
        if (code.startsWith('InvalidKeyPair')) this.keyPairs.forget();
        const mapped = toDispatchError(e, errCtx);
        if (mapped instanceof CapacityError) lastCapacityErr = mapped;
        if (!isSubnetSpecific(code, message) || i === attempts - 1) throw lastCapacityErr ?? mapped;
        this.log.warn('subnet-specific create error, trying the next subnet', { subnetId: subnet, code });
        continue;
      }
      this.starts.inc({ subnet_id: subnet ?? '', success: '1' });
      this.createBackoff.reset();
      const raw = out.Instances?.[0];
      if (raw === undefined) throw new Error(`creating ${type.providerType} instance: RunInstances returned no instance`);
      this.log.info('instance created', { instanceId: raw.InstanceId, providerType: type.providerType, subnetId: subnet });
      return new Ec2Instance(this.ctx, raw);
    }
    throw toDispatchError(lastErr, errCtx);
  }

  private runInstancesInput(req: CreateRequest, keyName: string | undefined): RunInstancesCommandInput {
    const p = this.params;
    const type = req.type;
    return {
      ImageId: req.imageId,
      InstanceType: type.providerType as RunInstancesCommandInput['InstanceType'],
      MinCount: 1,
      MaxCount: 1,
      NetworkInterfaces: [
        {
          DeviceIndex: 0,
          AssociatePublicIpAddress: false,
          DeleteOnTermination: true,
          ...(p.SecurityGroupIDs.length > 0 ? { Groups: [...p.SecurityGroupIDs] } : {}),
        },
      ],
      DisableApiTermination: false,
      InstanceInitiatedShutdownBehavior: 'terminate',
      // Volumes and NICs are not tagged, as in Arvados.
      TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(req.tags).map(([Key, Value]) => ({ Key, Value })) }],
      MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required' },
      UserData: Buffer.from(`#!/bin/sh\n${req.initCommand}\n`).toString('base64'),
      ...(keyName !== undefined ? { KeyName: keyName } : {}),
      ...(type.addedScratch > 0
        ? {
            BlockDeviceMappings: [
              {
                DeviceName: '/dev/xvdt',
                Ebs: {
                  DeleteOnTermination: true,
                  VolumeSize: Math.ceil(type.addedScratch / GiB),
                  VolumeType: p.EBSVolumeType as 'gp2',
                },
              },
            ],
          }
        : {}),
      ...(type.preemptible
        ? {
            InstanceMarketOptions: {
              MarketType: 'spot',
              SpotOptions: { InstanceInterruptionBehavior: 'terminate', MaxPrice: String(type.price) },
            },
          }
        : {}),
      ...(p.IAMInstanceProfile !== '' ? { IamInstanceProfile: { Name: p.IAMInstanceProfile } } : {}),
    };
  }

  async instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    const filters: Filter[] = Object.entries(filter ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] }));
    const found: Ec2Instance[] = [];
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.client.send(
          new DescribeInstancesCommand({
            ...(filters.length > 0 ? { Filters: filters } : {}),
            MaxResults: this.pageSize,
            ...(token !== undefined ? { NextToken: token } : {}),
          }),
        );
      } catch (e) {
        throw toDispatchError(e, { doing: 'listing instances', backoff: this.listBackoff });
      }
      this.listBackoff.reset();
      for (const r of out.Reservations ?? []) {
        for (const raw of r.Instances ?? []) {
          if (GONE_STATES.has(raw.State?.Name ?? '')) continue;
          found.push(new Ec2Instance(this.ctx, raw));
        }
      }
      token = out.NextToken !== undefined && out.NextToken !== '' ? out.NextToken : undefined;
    } while (token !== undefined);
    this.countBySubnet(found);
    await this.refreshSpotPrices(found);
    return found;
  }

  private countBySubnet(found: readonly Ec2Instance[]): void {
    const counts = new Map<string, number>();
    for (const i of found) counts.set(i.subnetId, (counts.get(i.subnetId) ?? 0) + 1);
    this.instancesGauge.reset();
    for (const [subnet, n] of counts) this.instancesGauge.set({ subnet_id: subnet }, n);
  }

  /** Failures are logged, not raised: a listing is worth more than fresh prices. */
  private async refreshSpotPrices(found: readonly Ec2Instance[]): Promise<void> {
    const inUse = found.filter((i) => i.spot).map((i) => ({ providerType: i.providerType, availabilityZone: i.availabilityZone }));
    const now = this.clock.now();
    const stale = this.spotPrices.staleTypes(inUse, now);
    if (stale.length === 0) return;
    const points: SpotPricePoint[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.client.send(
          new DescribeSpotPriceHistoryCommand({
            StartTime: new Date(now - this.spotPrices.lookbackMs()),
            Filters: [
              { Name: 'instance-type', Values: stale },
              { Name: 'product-description', Values: ['Linux/UNIX'] },
            ],
            ...(token !== undefined ? { NextToken: token } : {}),
          }),
        );
        for (const s of out.SpotPriceHistory ?? []) {
          const price = Number(s.SpotPrice);
          if (s.InstanceType === undefined || s.Timestamp === undefined || !Number.isFinite(price)) continue;
          points.push({
            providerType: s.InstanceType,
            availabilityZone: s.AvailabilityZone ?? '',
            startTime: s.Timestamp.getTime(),
            price,
          });
        }
        token = out.NextToken !== undefined && out.NextToken !== '' ? out.NextToken : undefined;
      } while (token !== undefined);
    } catch (e) {
      this.log.warn('spot price update failed', { error: toDispatchError(e, { doing: 'reading spot prices', backoff: new ThrottleBackoff() }).message });
      return;
    }
    const staleSet = new Set(stale);
    this.spotPrices.update(inUse.filter((u) => staleSet.has(u.providerType)), points, now);
  }

  stop(): void {
    this.client.destroy();
  }
}

/** Options for `createEc2InstanceSet`: DriverParameters still raw, as the config holds them. */
export type Ec2DriverOptions = Omit<Ec2InstanceSetOptions, 'params'> & {
  readonly driverParameters: unknown;
  /** YAML path of DriverParameters for error messages. */
  readonly path?: string;
};

/**
 * Validates DriverParameters and builds the driver; unknown keys are logged, not refused
 * (Arvados ignores them).
 * @throws ConfigError naming the offending DriverParameters key.
 */
export function createEc2InstanceSet(opts: Ec2DriverOptions): Ec2InstanceSet {
  const { params, unknownKeys } = parseDriverParams(opts.driverParameters, opts.path);
  if (unknownKeys.length > 0) opts.logger.warn('unknown EC2 DriverParameters keys ignored', { keys: unknownKeys });
  return new Ec2InstanceSet({ ...opts, params });
}
