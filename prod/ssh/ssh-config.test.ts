import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../core/config/cluster-config.js';
import { generateEd25519KeyPair } from '../../sim/ssh/host-keys.js';
import { realClock } from '../../test/fixtures/ssh-real-clock.js';
import { sshSettingsFromConfig } from './ssh-config.js';

function cluster(key: string, sshPort: string, deploy: boolean): ClusterConfig {
  // Only the keys the SSH settings read; the rest of the config is irrelevant here.
  return {
    Containers: { DispatchPrivateKey: key, CloudVMs: { SSHPort: sshPort, DeployPublicKey: deploy } },
  } as unknown as ClusterConfig;
}

describe('sshSettingsFromConfig', () => {
  const pair = generateEd25519KeyPair();

  it('takes the key, the port and the public key to deploy from the config', () => {
    const s = sshSettingsFromConfig(cluster(pair.private, '2222', true), { clock: realClock }, { commandTimeoutMs: 1000 });
    expect(s.executor.defaultPort).toBe(2222);
    expect(s.executor.commandTimeoutMs).toBe(1000);
    expect(s.executor.signers[0]?.getPublicSSH().equals(pair.parsed.getPublicSSH())).toBe(true);
    expect(s.deployPublicKey?.split(' ')[1]).toBe(pair.public.split(' ')[1]);
    expect(sshSettingsFromConfig(cluster(pair.private, '', false), { clock: realClock }).deployPublicKey).toBeNull();
  });

  it('reports a bad key or port naming the setting', () => {
    expect(() => sshSettingsFromConfig(cluster('nope', '22', true), { clock: realClock })).toThrow(/Containers.DispatchPrivateKey/);
    expect(() => sshSettingsFromConfig(cluster(pair.private, 'x', true), { clock: realClock })).toThrow(/CloudVMs.SSHPort/);
  });
});
