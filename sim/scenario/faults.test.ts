import { describe, expect, it } from 'vitest';
import { parseFaults } from './faults.js';

describe('faults', () => {
  it('parses every kind of the contract', () => {
    const faults = parseFaults(
      [
        { at: '1h', kind: 'controller-unavailable', for: '5m' },
        { at: '2h', kind: 'cloud-api-outage', for: '10m' },
        { at: '3h', kind: 'dispatcher-restart' },
        { at: '4h', kind: 'kill-instances', count: 3 },
        { at: '5h', kind: 'quota', instances: 10 },
        { at: '6h', kind: 'ssh-partition', count: 2, for: '5m' },
      ],
      'faults',
    );
    expect(faults.map((f) => f.kind)).toEqual([
      'controller-unavailable',
      'cloud-api-outage',
      'dispatcher-restart',
      'kill-instances',
      'quota',
      'ssh-partition',
    ]);
    expect(faults[0]).toEqual({ kind: 'controller-unavailable', at: 3_600_000, for: 300_000 });
    expect(faults[4]).toEqual({ kind: 'quota', at: 18_000_000, instances: 10 });
  });

  it('names the path of a bad field', () => {
    expect(() => parseFaults([{ at: '1h', kind: 'kill-instances' }], 'faults')).toThrow(/^faults\[0\]\.count: required/);
    expect(() => parseFaults([{ at: '-5m', kind: 'dispatcher-restart' }], 'faults')).toThrow(/^faults\[0\]\.at: expected a duration that is not negative/);
    expect(() => parseFaults([{ at: '1h', kind: 'meteor' }], 'faults')).toThrow(/^faults\[0\]\.kind: expected one of/);
    expect(() => parseFaults([{ at: '1h', kind: 'dispatcher-restart', fro: 1 }], 'faults')).toThrow(/^faults\[0\]\.fro: unknown key/);
  });
});
