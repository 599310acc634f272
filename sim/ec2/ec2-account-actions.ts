import type { InstanceType } from '../../core/domain/instance-type.js';
import type { InstancePrice } from '../../core/ports/instance-set.js';
import { ec2ImportedFingerprint, parseSshPublicKey } from '../../prod/ec2/key-fingerprint.js';
import { normalizePriceHistory } from '../../prod/ec2/spot-prices.js';
import { Ec2ApiError, filters, optInt, optString, reqString, stringList, type QueryTree } from './query-params.js';
import type { XmlValue } from './xml.js';

interface KeyPair {
  readonly name: string;
  readonly id: string;
  readonly fingerprint: string;
  readonly type: string;
  /** `type base64` */
  readonly line: string;
}

/** ImportKeyPair and DescribeKeyPairs, with EC2's fingerprints for imported keys. */
export class KeyPairActions {
  private readonly pairs = new Map<string, KeyPair>();

  material(name: string): string | undefined {
    return this.pairs.get(name)?.line;
  }

  importKeyPair(q: QueryTree): Record<string, XmlValue> {
    const name = reqString(q, 'KeyName');
    if (name.length > 255) throw new Ec2ApiError('InvalidParameterValue', 'Key names are at most 255 characters');
    const material = Buffer.from(reqString(q, 'PublicKeyMaterial'), 'base64').toString('utf8');
    if (this.pairs.has(name)) throw new Ec2ApiError('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
    let key;
    try {
      key = parseSshPublicKey(material);
    } catch (e) {
      throw new Ec2ApiError('InvalidKey.Format', `Key is not in valid OpenSSH public key format (${e instanceof Error ? e.message : String(e)})`);
    }
    const pair: KeyPair = {
      name,
      id: `key-${(this.pairs.size + 1).toString(16).padStart(17, '0')}`,
      fingerprint: ec2ImportedFingerprint(key),
      type: key.type === 'ssh-rsa' ? 'rsa' : 'ed25519',
      line: key.line,
    };
    this.pairs.set(name, pair);
    return { keyFingerprint: pair.fingerprint, keyName: pair.name, keyPairId: pair.id };
  }

  describeKeyPairs(q: QueryTree): Record<string, XmlValue> {
    const names = stringList(q, 'KeyName');
    for (const n of names) {
      if (!this.pairs.has(n)) throw new Ec2ApiError('InvalidKeyPair.NotFound', `The key pair '${n}' does not exist`);
    }
    const fs = filters(q);
    for (const f of fs) {
      if (!['fingerprint', 'key-name', 'key-pair-id'].includes(f.name)) throw new Ec2ApiError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
    }
    const rows = [...this.pairs.values()].filter(
      (p) =>
        (names.length === 0 || names.includes(p.name)) &&
        fs.every((f) => f.values.includes(f.name === 'fingerprint' ? p.fingerprint : f.name === 'key-name' ? p.name : p.id)),
    );
    return { keySet: rows.map((p) => ({ keyPairId: p.id, keyName: p.name, keyFingerprint: p.fingerprint, keyType: p.type })) };
  }
}

export interface SpotActionsOptions {
  readonly types: readonly InstanceType[];
  readonly zone: string;
  readonly now: () => number;
  /** Price history of a preemptible type, oldest first. Default: its configured price since start. */
  readonly spotPrices?: (type: InstanceType) => readonly InstancePrice[];
}

/** DescribeSpotPriceHistory for the configured preemptible types, in one zone. */
export class SpotActions {
  private readonly started: number;
  private readonly observed = new Map<string, InstancePrice[]>();

  constructor(private readonly o: SpotActionsOptions) {
    this.started = o.now();
  }

  /**
   * The history of a preemptible type: the `spotPrices` option; else what the served cloud
   * reported for spot instances of its provider type; else its configured Price since start.
   */
  history(type: InstanceType): readonly InstancePrice[] {
    const given = this.o.spotPrices?.(type);
    if (given !== undefined) return given;
    const seen = this.observed.get(type.providerType);
    return seen !== undefined && seen.length > 0 ? seen : [{ startTime: this.started, price: type.price }];
  }

  /** A spot instance's own price history, as the served cloud reports it. */
  observe(type: InstanceType, history: readonly InstancePrice[]): void {
    if (history.length === 0) return;
    this.observed.set(type.providerType, normalizePriceHistory([...(this.observed.get(type.providerType) ?? []), ...history]));
  }

  /** The price in effect now, for RunInstances' MaxPrice check: only when given explicitly. */
  current(type: InstanceType): number | undefined {
    const h = this.o.spotPrices?.(type);
    return h?.[h.length - 1]?.price;
  }

  describeSpotPriceHistory(q: QueryTree): Record<string, XmlValue> {
    const startTime = parseTime(q, 'StartTime') ?? this.o.now() - 3600_000;
    const endTime = parseTime(q, 'EndTime') ?? this.o.now();
    let typeNames = new Set(stringList(q, 'InstanceType'));
    let products: readonly string[] | undefined = stringList(q, 'ProductDescription');
    if (products.length === 0) products = undefined;
    let zones: readonly string[] | undefined;
    for (const f of filters(q)) {
      if (f.name === 'instance-type') typeNames = typeNames.size === 0 ? new Set(f.values) : new Set(f.values.filter((v) => typeNames.has(v)));
      else if (f.name === 'product-description') products = f.values;
      else if (f.name === 'availability-zone') zones = f.values;
      else throw new Ec2ApiError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
    }
    const pageSize = optInt(q, 'MaxResults', 1, 1000) ?? 1000;
    const rows: { instanceType: string; productDescription: string; spotPrice: string; timestamp: string; availabilityZone: string }[] = [];
    const productOk = products === undefined || products.includes('Linux/UNIX');
    const zoneOk = zones === undefined || zones.includes(this.o.zone);
    const seen = new Set<string>();
    for (const t of this.o.types) {
      if (!t.preemptible || seen.has(t.providerType) || !productOk || !zoneOk) continue;
      if (typeNames.size > 0 && !typeNames.has(t.providerType)) continue;
      seen.add(t.providerType);
      const h = this.history(t);
      // The point in effect at StartTime counts, as in EC2.
      const first = h.reduce((idx, p, i) => (p.startTime <= startTime ? i : idx), 0);
      for (const p of h.slice(first)) {
        if (p.startTime > endTime) break;
        rows.push({ instanceType: t.providerType, productDescription: 'Linux/UNIX', spotPrice: p.price.toFixed(6), timestamp: new Date(p.startTime).toISOString(), availabilityZone: this.o.zone });
      }
    }
    rows.sort((a, b) => (a.timestamp > b.timestamp ? -1 : a.timestamp < b.timestamp ? 1 : a.instanceType < b.instanceType ? -1 : 1));
    const token = optString(q, 'NextToken');
    const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0 || start > rows.length) throw new Ec2ApiError('InvalidParameterValue', 'The value for NextToken is not valid');
    const end = start + pageSize;
    return {
      spotPriceHistorySet: rows.slice(start, end),
      nextToken: end < rows.length ? Buffer.from(String(end)).toString('base64url') : '',
    };
  }
}

function parseTime(q: QueryTree, name: string): number | undefined {
  const s = optString(q, name);
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Ec2ApiError('InvalidParameterValue', `Value (${s}) for parameter ${name} is invalid. Expected an ISO 8601 time.`);
  return t;
}
