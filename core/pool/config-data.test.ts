import { describe, it, expect } from 'vitest';
import { createHmac } from 'node:crypto';
import { instanceType } from '../../test/fakes/pool-harness.js';
import { configData, hostOf, instanceTypeJson, joinHostPort } from './config-data.js';

describe('crunch-run ConfigData', () => {
  it('carries env, the 4-space type JSON without Name/Scratch, gateway address and HMAC secret, keep buffers, spot check', () => {
    const t = instanceType('m5.large', { vcpus: 4, preemptible: true, price: 0.5 });
    const raw = configData({
      uuid: 'zzzzz-dz642-000000000000001',
      type: t,
      address: '10.1.2.3:2222',
      env: { apiHost: 'api:443', apiToken: 'tok', insecure: true },
      systemRootToken: 'root',
      keepBuffersPerVCPU: 2,
      clusterJson: { Containers: {} },
      ec2SpotCheck: true,
    });
    const d = JSON.parse(raw.toString()) as { Env: Record<string, string>; KeepBuffers: number; EC2SpotCheck: boolean; Cluster: unknown };
    expect(d.Env['ARVADOS_API_HOST']).toBe('api:443');
    expect(d.Env['ARVADOS_API_HOST_INSECURE']).toBe('1');
    expect(d.Env['GatewayAddress']).toBe('10.1.2.3:0');
    expect(d.Env['GatewayAuthSecret']).toBe(createHmac('sha256', 'root').update('zzzzz-dz642-000000000000001').digest('hex'));
    expect(d.Env['InstanceType']).toBe(instanceTypeJson(t));
    expect(instanceTypeJson(t)).toMatch(/^\{\n {4}"ProviderType": "m5.large",\n {4}"VCPUs": 4,/);
    expect(instanceTypeJson(t)).not.toMatch(/"Name"|"Scratch"/);
    expect(instanceTypeJson(t).endsWith('}\n')).toBe(true);
    expect(d.KeepBuffers).toBe(8);
    expect(d.EC2SpotCheck).toBe(true);
    expect(d.Cluster).toEqual({ Containers: {} });
  });

  it('brackets IPv6 gateway hosts', () => {
    expect(joinHostPort(hostOf('[fe80::1]:22'), '0')).toBe('[fe80::1]:0');
    expect(joinHostPort(hostOf('fe80::1'), '0')).toBe('[fe80::1]:0');
    expect(joinHostPort(hostOf('host'), '0')).toBe('host:0');
  });
});
