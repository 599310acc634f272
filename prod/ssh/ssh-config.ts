import type { ClusterConfig } from '../../core/config/cluster-config.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import { parseDispatchPrivateKey } from './keys.js';
import type { SshExecutorOptions } from './ssh-executor.js';
import { parseSshPort } from './target-address.js';

export interface SshSettings {
  readonly executor: SshExecutorOptions;
  /** authorized_keys line for CreateRequest.publicKey, or null when DeployPublicKey is false. */
  readonly deployPublicKey: string | null;
}

/**
 * The SSH executor's options from the cluster config: signers from
 * Containers.DispatchPrivateKey, the default port from CloudVMs.SSHPort. Throws the parse
 * errors of those settings ("reading Containers.DispatchPrivateKey: ..."), meant for the
 * daemon's start-up, which reports them as bad input.
 */
export function sshSettingsFromConfig(
  cluster: ClusterConfig,
  deps: { readonly clock: Clock; readonly logger?: Logger; readonly readFile?: (path: string) => Buffer },
  overrides: Partial<Omit<SshExecutorOptions, 'signers' | 'clock'>> = {},
): SshSettings {
  const key = parseDispatchPrivateKey(cluster.Containers.DispatchPrivateKey, deps.readFile);
  const vms = cluster.Containers.CloudVMs;
  return {
    executor: {
      defaultPort: parseSshPort(vms.SSHPort),
      ...overrides,
      signers: key.signers,
      clock: deps.clock,
      ...(deps.logger !== undefined ? { logger: deps.logger } : {}),
    },
    deployPublicKey: vms.DeployPublicKey ? key.publicKeyLine : null,
  };
}
