import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/config/config-error.js';
import { DEFAULT_QUOTA_GROUPS, parseDriverParams } from './driver-params.js';

const P = 'Clusters.zzzzz.Containers.CloudVMs.DriverParameters';

function error(raw: unknown): ConfigError {
  try {
    parseDriverParams(raw, P);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('EC2 DriverParameters', () => {
  it("applies Arvados' defaults", () => {
    const { params, unknownKeys } = parseDriverParams(undefined);
    expect(params).toEqual({
      AccessKeyID: '',
      SecretAccessKey: '',
      Region: '',
      SecurityGroupIDs: [],
      SubnetIDs: [],
      AdminUsername: 'crunch',
      EBSVolumeType: 'gp2',
      EBSPrice: 0.1,
      IAMInstanceProfile: '',
      SpotPriceUpdateInterval: 24 * 3600_000,
      InstanceTypeQuotaGroups: DEFAULT_QUOTA_GROUPS,
      Endpoint: '',
    });
    expect(unknownKeys).toEqual([]);
  });

  it('reads every key; SubnetID as a string or a list, SecurityGroupIDs as a list or a map', () => {
    const { params, unknownKeys } = parseDriverParams({
      AccessKeyID: 'AKID',
      SecretAccessKey: 'secret',
      Region: 'eu-west-1',
      SecurityGroupIDs: { 'sg-2': {}, 'sg-1': {}, SAMPLE: {} },
      SubnetID: 'subnet-1',
      AdminUsername: 'admin',
      EBSVolumeType: 'gp3',
      EBSPrice: 0.08,
      IAMInstanceProfile: 'role',
      SpotPriceUpdateInterval: '1h30m',
      InstanceTypeQuotaGroups: { P4: 'p4', m: 'mine' },
      Bogus: 1,
    });
    expect(params).toMatchObject({
      Region: 'eu-west-1',
      SecurityGroupIDs: ['sg-1', 'sg-2'],
      SubnetIDs: ['subnet-1'],
      AdminUsername: 'admin',
      EBSVolumeType: 'gp3',
      EBSPrice: 0.08,
      IAMInstanceProfile: 'role',
      SpotPriceUpdateInterval: 90 * 60_000,
    });
    expect(params.InstanceTypeQuotaGroups).toMatchObject({ p4: 'p4', m: 'mine', c: 'standard' });
    expect(unknownKeys).toEqual(['Bogus']);
    expect(parseDriverParams({ SubnetID: ['a', 'b'], SecurityGroupIDs: ['sg-9'] }).params).toMatchObject({ SubnetIDs: ['a', 'b'], SecurityGroupIDs: ['sg-9'] });
    expect(parseDriverParams({ SubnetID: '', SpotPriceUpdateInterval: 0 }).params).toMatchObject({ SubnetIDs: [], SpotPriceUpdateInterval: 0 });
  });

  it('names the key and what was expected', () => {
    expect(error({ Region: 3 }).message).toBe(`${P}.Region: expected a string, got 3`);
    expect(error({ SubnetID: ['a', 7] }).message).toBe(`${P}.SubnetID[1]: expected a non-empty string, got 7`);
    expect(error({ SpotPriceUpdateInterval: '5 minutes' }).path).toBe(`${P}.SpotPriceUpdateInterval`);
    expect(error({ SpotPriceUpdateInterval: '-1h' }).message).toContain('>= 0');
    expect(error({ EBSPrice: 'cheap' }).path).toBe(`${P}.EBSPrice`);
    expect(error({ InstanceTypeQuotaGroups: { p4: 4 } }).path).toBe(`${P}.InstanceTypeQuotaGroups.p4`);
    expect(error({ AccessKeyID: 'AKID' }).path).toBe(`${P}.SecretAccessKey`);
    expect(error(['x']).path).toBe(P);
    expect(error({ Endpoint: 'ftp://x' }).path).toBe(`${P}.Endpoint`);
    expect(error({ Endpoint: 'http://user:pw@127.0.0.1:1' }).message).not.toContain('pw');
    expect(parseDriverParams({ Endpoint: 'http://127.0.0.1:4566' }).params.Endpoint).toBe('http://127.0.0.1:4566');
  });
});
