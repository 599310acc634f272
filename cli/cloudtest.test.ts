import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NO_GPU, type InstanceType } from '../core/domain/instance-type.js';
import { generateEd25519KeyPair } from '../sim/ssh/host-keys.js';
import { Ec2Endpoint } from '../sim/ec2/ec2-endpoint.js';
import { SshLoopbackInstanceSet } from '../test/fakes/ec2-ssh-instance-set.js';
import { main } from './main.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-cloudtest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...args: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, stderr: err.join('\n') };
}

function configText(o: { endpoint: string; keyFile: string; driver?: string; extraParams?: string; bootProbe?: string }): string {
  return `Clusters:
  zzzzz:
    SystemRootToken: xq2pv8rzdb5m3k7wcyahgt4ne6sfj9lu
    ManagementToken: 7bm2kq9xwv4pdt6rhzcn3sgfyal8je5u
    Services:
      Controller: {ExternalURL: "https://zzzzz.example.com"}
    Containers:
      DispatchPrivateKey: ${JSON.stringify(`file://${o.keyFile}`)}
      CloudVMs:
        ImageID: ami-0123456789abcdef0
        BootProbeCommand: ${JSON.stringify(o.bootProbe ?? 'sudo cat /var/run/arvados-instance-secret')}
        SyncInterval: 100ms
        ProbeInterval: 100ms
        TimeoutBooting: 20s
        Driver: ${o.driver ?? 'ec2'}
        DriverParameters:
          Region: us-east-1
          AccessKeyID: AKIDLOCALTEST
          SecretAccessKey: local-test-secret
          Endpoint: ${JSON.stringify(o.endpoint)}
${o.extraParams ?? ''}
    InstanceTypes:
      m5.large: {VCPUs: 2, RAM: 8GiB, Price: 0.096}
      c5.xlarge: {VCPUs: 4, RAM: 8GiB, Price: 0.17}
`;
}

const TYPES: InstanceType[] = [
  { name: 'm5.large', providerType: 'm5.large', vcpus: 2, ram: 8 * 2 ** 30, scratch: 0, includedScratch: 0, addedScratch: 0, price: 0.096, preemptible: false, gpu: NO_GPU },
  { name: 'c5.xlarge', providerType: 'c5.xlarge', vcpus: 4, ram: 8 * 2 ** 30, scratch: 0, includedScratch: 0, addedScratch: 0, price: 0.17, preemptible: false, gpu: NO_GPU },
];

describe('vmdispatch cloudtest', () => {
  it('passes end to end: EC2 driver -> simulated endpoint -> VMs behind real SSH servers', async () => {
    const key = generateEd25519KeyPair('cloudtest');
    const keyFile = join(dir, 'dispatch-key');
    await writeFile(keyFile, key.private, { mode: 0o600 });
    const cloud = new SshLoopbackInstanceSet([key.parsed]);
    const endpoint = await Ec2Endpoint.start({ instanceSet: cloud, types: TYPES });
    try {
      const config = join(dir, 'ok.yml');
      await writeFile(config, configText({ endpoint: endpoint.url, keyFile }));
      const r = await run('cloudtest', '--config', config, '--command', 'echo checked');
      expect(r.stderr).toContain('cloudtest: boot probe succeeded');
      expect(r.stderr).toContain('command succeeded: stdout "checked\\n"');
      expect(r.stderr).toMatch(/to log in: ssh -p\d+ crunch@127\.0\.0\.1/);
      expect(r.code).toBe(0);
      expect(await cloud.instances(null)).toEqual([]);
      expect(endpoint.calls('RunInstances')[0]!.params).toMatchObject({ InstanceType: 'm5.large', ImageId: 'ami-0123456789abcdef0' });

      // A boot probe that never succeeds is a failed check: exit 1, and the instance is still destroyed.
      const failing = join(dir, 'fail.yml');
      await writeFile(failing, configText({ endpoint: endpoint.url, keyFile, bootProbe: 'false' }).replace('TimeoutBooting: 20s', 'TimeoutBooting: 500ms'));
      const f = await run('cloudtest', '--config', failing, '--instance-type', 'c5.xlarge');
      expect(f.code).toBe(1);
      expect(f.stderr).toContain('FAILED: boot probe');
      expect(await cloud.instances(null)).toEqual([]);
    } finally {
      await endpoint.close();
      await cloud.close();
    }
  });

  it('bad input exits 2 with the file and the path', async () => {
    const keyFile = join(dir, 'dispatch-key');
    const config = join(dir, 'bad.yml');
    await writeFile(config, configText({ endpoint: 'http://127.0.0.1:1', keyFile, extraParams: '          SubnetID: [subnet-1, 7]' }));
    const bad = await run('cloudtest', '--config', config);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${config}: Clusters.zzzzz.Containers.CloudVMs.DriverParameters.SubnetID[1]: expected a non-empty string, got 7`);

    await writeFile(config, configText({ endpoint: 'http://127.0.0.1:1', keyFile, driver: 'azure' }));
    expect((await run('cloudtest', '--config', config)).stderr).toContain('CloudVMs.Driver: expected "ec2"');
    expect((await run('cloudtest', '--config', config, '--instance-type', 'x1')).code).toBe(2);
    expect((await run('cloudtest')).code).toBe(2);
    expect((await run('cloudtest', '--config', join(dir, 'missing.yml'))).code).toBe(2);
  });
});
