import { describe, expect, it } from 'vitest';
import { DEFAULT_QUOTA_GROUPS } from './driver-params.js';
import { ec2QuotaGroup } from './quota-group.js';

describe('EC2 quota groups', () => {
  it.each([
    ['m5.large', false, 'standard'],
    ['M5.large', false, 'standard'],
    ['m1.xlarge', false, 'standard'],
    ['trn1.2xlarge', false, 'trn'],
    ['g1.large', false, 'g'],
    ['vt1.3xlarge', false, 'g'],
    ['p5.48xlarge', false, 'p5'],
    ['p4d.24xlarge', false, 'p'],
    ['m5.large', true, 'standard-spot'],
    ['p5.48xlarge', true, 'p5-spot'],
  ] as const)('%s (preemptible %s) -> %s', (type, spot, group) => {
    expect(ec2QuotaGroup(type, spot, DEFAULT_QUOTA_GROUPS)).toBe(group);
  });

  it('a configured prefix shorter than the family does not apply; the longest match wins', () => {
    expect(ec2QuotaGroup('trn1.2xlarge', false, { t: 'standard' })).toBe('trn');
    expect(ec2QuotaGroup('p4d.24xlarge', false, { p: 'p', p4: 'p4', p4d: 'p4d' })).toBe('p4d');
  });
});
