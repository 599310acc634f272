import { ConfigError, describeFound } from '../../core/config/config-error.js';
import { parseDuration, UnitError } from '../../core/config/units.js';

/**
 * `CloudVMs.DriverParameters` for the EC2 driver, with Arvados' key names and defaults
 * (lib/cloud/ec2/ec2.go `ec2InstanceSetConfig`). Durations are milliseconds.
 */
export interface Ec2DriverParams {
  readonly AccessKeyID: string;
  readonly SecretAccessKey: string;
  readonly Region: string;
  /** Empty: the VPC's default security group. */
  readonly SecurityGroupIDs: readonly string[];
  /** Empty: AWS picks a subnet of the default VPC. Several: rotated on subnet-specific errors. */
  readonly SubnetIDs: readonly string[];
  readonly AdminUsername: string;
  readonly EBSVolumeType: string;
  /** Per GiB-month, added to spot prices for AddedScratch volumes. */
  readonly EBSPrice: number;
  readonly IAMInstanceProfile: string;
  /** 0 disables spot price lookups. */
  readonly SpotPriceUpdateInterval: number;
  /** Lowercase ProviderType prefix -> quota group name. */
  readonly InstanceTypeQuotaGroups: Readonly<Record<string, string>>;
  /**
   * Not an Arvados key: an EC2 endpoint URL overriding the region's (e.g. the simulated
   * endpoint of `vmdispatch world`). '' uses AWS.
   */
  readonly Endpoint: string;
}

export const DEFAULT_QUOTA_GROUPS: Readonly<Record<string, string>> = Object.freeze({
  a: 'standard',
  c: 'standard',
  d: 'standard',
  h: 'standard',
  i: 'standard',
  m: 'standard',
  r: 'standard',
  t: 'standard',
  z: 'standard',
  vt: 'g',
  p5: 'p5',
});

const KNOWN_KEYS = new Set([
  'AccessKeyID',
  'SecretAccessKey',
  'Region',
  'SecurityGroupIDs',
  'SubnetID',
  'AdminUsername',
  'EBSVolumeType',
  'EBSPrice',
  'IAMInstanceProfile',
  'SpotPriceUpdateInterval',
  'InstanceTypeQuotaGroups',
  'Endpoint',
]);

export interface ParsedDriverParams {
  readonly params: Ec2DriverParams;
  /** Keys this driver does not know: Arvados ignores them, so we only warn. */
  readonly unknownKeys: readonly string[];
}

/**
 * Validates DriverParameters. `path` is the YAML path of the map, used in error messages
 * (`Clusters.zzzzz.Containers.CloudVMs.DriverParameters`).
 * @throws ConfigError naming the offending key and what was expected.
 */
export function parseDriverParams(raw: unknown, path = 'DriverParameters'): ParsedDriverParams {
  const at = (key: string): string => (path === '' ? key : `${path}.${key}`);
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(path, `expected a map of EC2 driver parameters, ${describeFound(raw)}`);
  }
  const m = raw as Record<string, unknown>;
  const str = (key: string, dflt: string): string => {
    const v = m[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string') throw new ConfigError(at(key), `expected a string, ${describeFound(v)}`);
    return v;
  };
  const stringSet = (key: string): string[] => {
    const v = m[key];
    if (v === undefined || v === null || v === '') return [];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v)) {
      return v.map((x, i) => {
        if (typeof x !== 'string' || x === '') {
          throw new ConfigError(`${at(key)}[${i}]`, `expected a non-empty string, ${describeFound(x)}`);
        }
        return x;
      });
    }
    if (typeof v === 'object') {
      // Arvados StringSet: a map whose keys are the members (values are ignored, usually {}).
      // The defaults file carries a SAMPLE entry that the loader strips.
      return Object.keys(v).filter((k) => k !== 'SAMPLE').sort();
    }
    throw new ConfigError(at(key), `expected a string, a list of strings or a map, ${describeFound(v)}`);
  };

  let ebsPrice = 0.1;
  const ep = m.EBSPrice;
  if (ep !== undefined && ep !== null) {
    if (typeof ep !== 'number' || !Number.isFinite(ep) || ep < 0) {
      throw new ConfigError(at('EBSPrice'), `expected a non-negative number (price per GiB-month), ${describeFound(ep)}`);
    }
    ebsPrice = ep;
  }

  let spotInterval = 24 * 3600_000;
  const si = m.SpotPriceUpdateInterval;
  if (si !== undefined && si !== null) {
    if (typeof si !== 'string' && typeof si !== 'number') {
      throw new ConfigError(at('SpotPriceUpdateInterval'), `expected a duration like 24h, ${describeFound(si)}`);
    }
    try {
      spotInterval = parseDuration(si);
    } catch (e) {
      if (e instanceof UnitError) throw new ConfigError(at('SpotPriceUpdateInterval'), `expected a duration like 24h: ${e.message}`);
      throw e;
    }
    if (spotInterval < 0) {
      throw new ConfigError(at('SpotPriceUpdateInterval'), `expected a duration >= 0, ${describeFound(si)}`);
    }
  }

  const groups: Record<string, string> = { ...DEFAULT_QUOTA_GROUPS };
  const qg = m.InstanceTypeQuotaGroups;
  if (qg !== undefined && qg !== null) {
    if (typeof qg !== 'object' || Array.isArray(qg)) {
      throw new ConfigError(at('InstanceTypeQuotaGroups'), `expected a map of type prefix to quota group, ${describeFound(qg)}`);
    }
    // Arvados' loader merges a configured map over the defaults file's map, so an entry
    // like `p4: p4` adds to the defaults instead of replacing them.
    for (const [k, v] of Object.entries(qg as Record<string, unknown>)) {
      if (typeof v !== 'string' || v === '') {
        throw new ConfigError(`${at('InstanceTypeQuotaGroups')}.${k}`, `expected a quota group name, ${describeFound(v)}`);
      }
      groups[k.toLowerCase()] = v;
    }
  }

  const accessKey = str('AccessKeyID', '');
  const secretKey = str('SecretAccessKey', '');
  if ((accessKey === '') !== (secretKey === '')) {
    const missing = accessKey === '' ? 'AccessKeyID' : 'SecretAccessKey';
    throw new ConfigError(at(missing), 'expected both AccessKeyID and SecretAccessKey, or neither (to use the default AWS credential chain)');
  }
  const admin = str('AdminUsername', '');
  const endpoint = str('Endpoint', '');
  if (endpoint !== '') {
    let u: URL | null = null;
    try {
      u = new URL(endpoint);
    } catch {
      u = null;
    }
    if (u !== null && (u.username !== '' || u.password !== '')) {
      // Never echo a URL that carries credentials.
      throw new ConfigError(at('Endpoint'), 'expected a URL without credentials (use AccessKeyID and SecretAccessKey)');
    }
    if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      throw new ConfigError(at('Endpoint'), `expected an http:// or https:// URL, ${describeFound(endpoint)}`);
    }
  }
  return {
    params: {
      AccessKeyID: accessKey,
      SecretAccessKey: secretKey,
      Region: str('Region', ''),
      SecurityGroupIDs: stringSet('SecurityGroupIDs'),
      SubnetIDs: stringSet('SubnetID'),
      AdminUsername: admin === '' ? 'crunch' : admin,
      EBSVolumeType: str('EBSVolumeType', '') || 'gp2',
      EBSPrice: ebsPrice,
      IAMInstanceProfile: str('IAMInstanceProfile', ''),
      SpotPriceUpdateInterval: spotInterval,
      InstanceTypeQuotaGroups: groups,
      Endpoint: endpoint,
    },
    unknownKeys: Object.keys(m).filter((k) => !KNOWN_KEYS.has(k)),
  };
}
