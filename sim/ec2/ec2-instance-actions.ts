import type { InstanceType } from '../../core/domain/instance-type.js';
import type { Instance, InstancePrice, InstanceSet, InstanceTags } from '../../core/ports/instance-set.js';
import { toEc2ApiError } from './ec2-errors.js';
import {
  Ec2ApiError,
  filters,
  optInt,
  optString,
  optTree,
  reqString,
  stringList,
  tagList,
  treeList,
  type QueryTree,
} from './query-params.js';
import { paginate, wildcard } from './instance-paging.js';
import type { XmlValue } from './xml.js';

/** What the endpoint knows about an instance beyond the port's view of it. */
interface Meta {
  readonly launchTime: number;
  readonly imageId: string;
  readonly keyName: string | undefined;
  readonly subnetId: string | undefined;
  readonly spot: boolean;
  readonly reservationId: string;
  /** The configured type, when known (for the price history of spot instances). */
  readonly type: InstanceType | undefined;
  terminated: boolean;
}

export interface InstanceActionsOptions {
  readonly instanceSet: InstanceSet;
  readonly types: readonly InstanceType[];
  readonly zone: string;
  readonly now: () => number;
  /** The public key line of an imported key pair, or undefined. */
  readonly keyMaterial: (keyName: string) => string | undefined;
  /** The current spot price of a type, if known (for SpotMaxPriceTooLow). */
  readonly spotPrice: (type: InstanceType) => number | undefined;
  /** Told the price history of each spot instance shown (DescribeSpotPriceHistory's default source). */
  readonly observeSpot?: (type: InstanceType, history: readonly InstancePrice[]) => void;
}

const USER_DATA_LIMIT = 16 * 1024;
const SHEBANG = '#!/bin/sh\n';
const FILTERS = new Set(['tag-key', 'instance-state-name', 'instance-id', 'instance-type', 'instance-lifecycle']);

/**
 * RunInstances, DescribeInstances, CreateTags and TerminateInstances over any InstanceSet.
 * The port knows no states: an instance is `pending` until it has an address, `running`
 * after, and `shutting-down` once terminated here while the set still lists it.
 */
export class InstanceActions {
  private readonly meta = new Map<string, Meta>();
  private readonly started: number;
  private reservations = 0;

  constructor(private readonly o: InstanceActionsOptions) {
    this.started = o.now();
  }

  async runInstances(q: QueryTree): Promise<Record<string, XmlValue>> {
    const imageId = reqString(q, 'ImageId');
    const providerType = reqString(q, 'InstanceType');
    const min = optInt(q, 'MinCount', 1, 100) ?? 1;
    const max = optInt(q, 'MaxCount', 1, 100) ?? 1;
    if (min > max) throw new Ec2ApiError('InvalidParameterValue', 'MinCount must be less than or equal to MaxCount');
    const market = optTree(q, 'InstanceMarketOptions');
    const spot = market !== undefined && optString(market, 'MarketType') === 'spot';
    // fromEntries: every key, `__proto__` included, becomes an own property.
    const tags: Record<string, string> = Object.fromEntries(
      treeList(q, 'TagSpecification').flatMap((spec) => (optString(spec, 'ResourceType') === 'instance' ? tagList(spec) : [])),
    );
    const type = this.chooseType(providerType, spot, tags, q);
    if (spot) {
      const maxPrice = optString(optTree(market ?? {}, 'SpotOptions') ?? {}, 'MaxPrice');
      const current = this.o.spotPrice(type);
      if (maxPrice !== undefined && current !== undefined && Number(maxPrice) < current) {
        throw new Ec2ApiError('SpotMaxPriceTooLow', `Your Spot request price of ${maxPrice} is lower than the minimum required Spot request fulfillment price of ${current}.`);
      }
    }
    const keyName = optString(q, 'KeyName');
    let publicKey: string | null = null;
    if (keyName !== undefined) {
      publicKey = this.o.keyMaterial(keyName) ?? null;
      if (publicKey === null) throw new Ec2ApiError('InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`);
    }
    const nic = treeList(q, 'NetworkInterface')[0];
    const subnetId = (nic !== undefined ? optString(nic, 'SubnetId') : undefined) ?? optString(q, 'SubnetId');
    const initCommand = this.initCommand(optString(q, 'UserData'));
    const reservationId = `r-${(++this.reservations).toString(16).padStart(17, '0')}`;
    const created: Instance[] = [];
    try {
      for (let i = 0; i < max; i++) created.push(await this.o.instanceSet.create({ type, imageId, tags, initCommand, publicKey }));
    } catch (e) {
      if (created.length < min) {
        await Promise.allSettled(created.map((c) => c.destroy()));
        throw toEc2ApiError(e, 'creating instance');
      }
    }
    const items = created.map((inst) => {
      const m: Meta = { launchTime: this.o.now(), imageId, keyName, subnetId, spot, reservationId, type, terminated: false };
      this.meta.set(inst.id, m);
      return this.instanceXml(inst, m);
    });
    return { reservationId, ownerId: '000000000000', groupSet: [], instancesSet: items };
  }

  /** The configured type for a request: same ProviderType and market; ties broken by the
   * InstanceType tag naming it, then by the AddedScratch volume size. */
  private chooseType(providerType: string, spot: boolean, tags: InstanceTags, q: QueryTree): InstanceType {
    const candidates = this.o.types.filter((t) => t.providerType === providerType && t.preemptible === spot);
    if (candidates.length === 0) {
      throw new Ec2ApiError('InvalidParameterValue', `Invalid value '${providerType}' for InstanceType${spot ? ' with the spot market' : ''}: no such type is configured in the simulated cloud.`);
    }
    const named = candidates.find((t) => Object.entries(tags).some(([k, v]) => k.endsWith('InstanceType') && v === t.name));
    if (named !== undefined) return named;
    const ebs = treeList(q, 'BlockDeviceMapping').map((b) => optTree(b, 'Ebs'));
    const gib = ebs[0] !== undefined ? Number(optString(ebs[0], 'VolumeSize') ?? 0) : 0;
    return candidates.find((t) => Math.ceil(t.addedScratch / 1024 ** 3) === gib) ?? (candidates[0] as InstanceType);
  }

  private initCommand(userData: string | undefined): string {
    if (userData === undefined) return '';
    const script = Buffer.from(userData, 'base64');
    if (script.length > USER_DATA_LIMIT) throw new Ec2ApiError('InvalidParameterValue', `User data is limited to ${USER_DATA_LIMIT} bytes`);
    const text = script.toString('utf8');
    // The script the driver sends is "#!/bin/sh\n<init command>\n": hand the VM the command.
    return text.startsWith(SHEBANG) ? text.slice(SHEBANG.length).replace(/\n$/, '') : text;
  }

  async describeInstances(q: QueryTree): Promise<Record<string, XmlValue>> {
    const ids = stringList(q, 'InstanceId');
    const pageSize = optInt(q, 'MaxResults', 5, 1000);
    if (pageSize !== undefined && ids.length > 0) {
      throw new Ec2ApiError('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
    }
    const fs = filters(q);
    const exactPairs: [string, string][] = [];
    for (const f of fs) {
      if (f.name.startsWith('tag:')) {
        // One value without wildcards narrows the cloud's own listing; the rest is matched here.
        const v = f.values[0];
        if (f.values.length === 1 && v !== undefined && !/[*?]/.test(v)) exactPairs.push([f.name.slice(4), v]);
      } else if (!FILTERS.has(f.name)) {
        throw new Ec2ApiError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
      }
    }
    let listed: readonly Instance[];
    try {
      listed = await this.o.instanceSet.instances(exactPairs.length > 0 ? Object.fromEntries(exactPairs) : null);
    } catch (e) {
      throw toEc2ApiError(e, 'listing instances');
    }
    const all = [...new Map(listed.map((i) => [i.id, i])).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.forgetGone(all);
    const rows = all.filter((i) => this.matches(i, ids, fs));
    if (ids.length > 0) {
      const missing = ids.filter((id) => !rows.some((i) => i.id === id));
      if (missing.length > 0) throw new Ec2ApiError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    }
    const { page, nextToken } = paginate(rows, q, pageSize);
    return {
      reservationSet: page.map((i) => {
        const m = this.metaOf(i);
        return { reservationId: m.reservationId, ownerId: '000000000000', groupSet: [], instancesSet: [this.instanceXml(i, m)] };
      }),
      nextToken,
    };
  }

  private matches(i: Instance, ids: readonly string[], fs: ReturnType<typeof filters>): boolean {
    if (ids.length > 0 && !ids.includes(i.id)) return false;
    const m = this.metaOf(i);
    return fs.every((f) => {
      const any = (v: string | undefined): boolean => v !== undefined && f.values.some((x) => wildcard(x, v));
      if (f.name.startsWith('tag:')) return any(Object.hasOwn(i.tags, f.name.slice(4)) ? i.tags[f.name.slice(4)] : undefined);
      switch (f.name) {
        case 'tag-key':
          return Object.keys(i.tags).some((k) => any(k));
        case 'instance-state-name':
          return any(this.state(i, m).name);
        case 'instance-id':
          return any(i.id);
        case 'instance-type':
          return any(i.providerType);
        case 'instance-lifecycle':
          return any(m.spot ? 'spot' : undefined);
        default:
          return false;
      }
    });
  }

  /**
   * DescribeInstanceStatus (Arvados' Go driver maps instances to zones with it):
   * `InstanceId.N`, `IncludeAllInstances`, `MaxResults`/`NextToken`. Without
   * IncludeAllInstances only running instances are shown, as in EC2.
   */
  async describeInstanceStatus(q: QueryTree): Promise<Record<string, XmlValue>> {
    const ids = stringList(q, 'InstanceId');
    const all = optString(q, 'IncludeAllInstances') === 'true';
    const pageSize = optInt(q, 'MaxResults', 5, 1000);
    let listed: readonly Instance[];
    try {
      listed = await this.o.instanceSet.instances(null);
    } catch (e) {
      throw toEc2ApiError(e, 'listing instances');
    }
    const rows = [...listed]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .filter((i) => (ids.length === 0 || ids.includes(i.id)) && (all || this.state(i, this.metaOf(i)).name === 'running'));
    const { page, nextToken } = paginate(rows, q, pageSize);
    return {
      instanceStatusSet: page.map((i) => ({
        instanceId: i.id,
        availabilityZone: this.o.zone,
        instanceState: this.state(i, this.metaOf(i)),
        systemStatus: { status: 'ok' },
        instanceStatus: { status: 'ok' },
      })),
      nextToken,
    };
  }

  async createTags(q: QueryTree): Promise<Record<string, XmlValue>> {
    const ids = stringList(q, 'ResourceId');
    if (ids.length === 0) throw new Ec2ApiError('MissingParameter', 'The request must contain the parameter resourceIdSet');
    const tags = Object.fromEntries(tagList(q));
    const current = await this.lookup(ids);
    for (const inst of current) {
      try {
        // EC2 adds and overwrites; it never removes tags that are not named.
        await inst.setTags({ ...inst.tags, ...tags });
      } catch (e) {
        throw toEc2ApiError(e, `tagging instance ${inst.id}`);
      }
    }
    return { return: true };
  }

  async terminateInstances(q: QueryTree): Promise<Record<string, XmlValue>> {
    const ids = stringList(q, 'InstanceId');
    if (ids.length === 0) throw new Ec2ApiError('MissingParameter', 'The request must contain the parameter InstanceId');
    const current = await this.lookup(ids.filter((id) => this.meta.get(id)?.terminated !== true), ids);
    const items: XmlValue[] = [];
    for (const id of ids) {
      const inst = current.find((i) => i.id === id);
      const m = this.meta.get(id);
      const previous = inst !== undefined && m !== undefined ? this.state(inst, m) : { code: 32, name: 'shutting-down' };
      if (inst !== undefined) {
        try {
          await inst.destroy();
        } catch (e) {
          if (!(e instanceof Error && 'kind' in e && e.kind === 'not-found')) throw toEc2ApiError(e, `terminating instance ${id}`);
        }
        this.metaOf(inst).terminated = true;
      }
      items.push({ instanceId: id, currentState: { code: 32, name: 'shutting-down' }, previousState: previous });
    }
    return { instancesSet: items };
  }

  /** The listed instances with these IDs; InvalidInstanceID.NotFound naming any unknown. */
  private async lookup(ids: readonly string[], known: readonly string[] = ids): Promise<Instance[]> {
    let listed: readonly Instance[];
    try {
      listed = ids.length === 0 ? [] : await this.o.instanceSet.instances(null);
    } catch (e) {
      throw toEc2ApiError(e, 'listing instances');
    }
    const found = listed.filter((i) => ids.includes(i.id));
    const missing = known.filter((id) => !found.some((i) => i.id === id) && this.meta.get(id)?.terminated !== true);
    if (missing.length > 0) throw new Ec2ApiError('InvalidInstanceID.NotFound', `The instance ID '${missing.join(', ')}' does not exist`);
    return found;
  }

  private forgetGone(all: readonly Instance[]): void {
    const live = new Set(all.map((i) => i.id));
    for (const [id, m] of this.meta) if (m.terminated && !live.has(id)) this.meta.delete(id);
  }

  /** Metadata of an instance created elsewhere (directly in the set, or before a restart). */
  private metaOf(i: Instance): Meta {
    let m = this.meta.get(i.id);
    if (m === undefined) {
      const named = this.o.types.filter((t) => t.providerType === i.providerType && Object.entries(i.tags).some(([k, v]) => k.endsWith('InstanceType') && v === t.name));
      const type = named[0];
      const reservationId = `r-${(++this.reservations).toString(16).padStart(17, '0')}`;
      m = { launchTime: this.started, imageId: '', keyName: undefined, subnetId: undefined, spot: type?.preemptible === true, reservationId, type, terminated: false };
      this.meta.set(i.id, m);
    }
    return m;
  }

  private state(i: Instance, m: Meta): { code: number; name: string } {
    if (m.terminated) return { code: 32, name: 'shutting-down' };
    return i.address() === '' ? { code: 0, name: 'pending' } : { code: 16, name: 'running' };
  }

  private instanceXml(i: Instance, m: Meta): XmlValue {
    const address = i.address();
    if (m.spot && m.type !== undefined) this.o.observeSpot?.(m.type, i.priceHistory(m.type));
    return {
      instanceId: i.id,
      imageId: m.imageId,
      instanceState: this.state(i, m),
      privateDnsName: '',
      dnsName: '',
      keyName: m.keyName,
      amiLaunchIndex: 0,
      instanceType: i.providerType,
      launchTime: new Date(m.launchTime).toISOString(),
      placement: { availabilityZone: this.o.zone, tenancy: 'default' },
      subnetId: m.subnetId,
      privateIpAddress: address === '' ? undefined : address,
      instanceLifecycle: m.spot ? 'spot' : undefined,
      tagSet: Object.entries(i.tags).map(([key, value]) => ({ key, value })),
      metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', state: 'applied' },
    };
  }
}
