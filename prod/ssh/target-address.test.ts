import { describe, expect, it } from 'vitest';
import { TransientError } from '../../core/ports/errors.js';
import { parseSshPort, parseTargetAddress } from './target-address.js';

describe('parseTargetAddress', () => {
  it('splits host and port, defaulting the port', () => {
    expect(parseTargetAddress('10.0.0.5', 22)).toEqual({ host: '10.0.0.5', port: 22 });
    expect(parseTargetAddress('10.0.0.5:2222', 22)).toEqual({ host: '10.0.0.5', port: 2222 });
    expect(parseTargetAddress('ip-10-0-0-5.ec2.internal', 2200)).toEqual({ host: 'ip-10-0-0-5.ec2.internal', port: 2200 });
    expect(parseTargetAddress('[fd00::5]:2222', 22)).toEqual({ host: 'fd00::5', port: 2222 });
    expect(parseTargetAddress('[fd00::5]', 22)).toEqual({ host: 'fd00::5', port: 22 });
    expect(parseTargetAddress('fd00::5', 22)).toEqual({ host: 'fd00::5', port: 22 });
  });

  it('rejects unusable addresses with TransientError', () => {
    for (const bad of ['host:abc', 'host:0', 'host:70000', ':22', 'a b', 'user@host']) {
      expect(() => parseTargetAddress(bad, 22)).toThrow(TransientError);
    }
  });
});

describe('parseSshPort', () => {
  it('takes CloudVMs.SSHPort as the reference does', () => {
    expect(parseSshPort('22')).toBe(22);
    expect(parseSshPort('')).toBe(22);
    expect(parseSshPort('ssh')).toBe(22);
    expect(parseSshPort(2222)).toBe(2222);
    expect(() => parseSshPort('http')).toThrow(/reading CloudVMs.SSHPort: expected a port number/);
    expect(() => parseSshPort('0')).toThrow(/CloudVMs.SSHPort/);
  });
});
