// `vmdispatch cloudtest --config CONFIG.yml`: checks the configured cloud driver end to end
// (create, list, tags, boot probe over SSH, destroy), as `arvados-server cloudtest` does.
// Exit 0 when every check passed, 1 when one failed, 2 for bad input.
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { ConfigError } from '../core/config/config-error.js';
import type { ClusterConfig } from '../core/config/cluster-config.js';
import type { InstanceType } from '../core/domain/instance-type.js';
import type { InstanceSet } from '../core/ports/instance-set.js';
import { runCloudTest } from '../prod/cloudtest/cloud-tester.js';
import { ConfigFileError, loadConfigFile } from '../prod/config/load-config-file.js';
import { parseDriverParams } from '../prod/ec2/driver-params.js';
import { Ec2InstanceSet } from '../prod/ec2/ec2-instance-set.js';
import { createLogger } from '../prod/logging/pino-logger.js';
import { parseDispatchPrivateKey } from '../prod/ssh/keys.js';
import { sshExecutorFactory } from '../prod/ssh/ssh-executor.js';
import { SystemClock } from '../prod/system-clock.js';
import { parseCommandArgs } from './args.js';
import { InputError } from './errors.js';
import type { Command } from './main.js';

const USAGE =
  'usage: vmdispatch cloudtest --config CONFIG.yml [--cluster ID] [--instance-set-id ID] [--image-id ID]\n' +
  '         [--instance-type NAME] [--destroy-existing] [--command CMD] [--pause-before-destroy]';
const DEFAULT_SET_ID = 'zzzzz-zzzzz-zzzzzzcloudtest';


export const command: Command = {
  async run(argv) {
    const { values } = parseCommandArgs(
      {
        args: [...argv],
        options: {
          config: { type: 'string' },
          cluster: { type: 'string' },
          'instance-set-id': { type: 'string' },
          'image-id': { type: 'string' },
          'instance-type': { type: 'string' },
          'destroy-existing': { type: 'boolean' },
          command: { type: 'string' },
          'pause-before-destroy': { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
        allowPositionals: false,
      },
      USAGE,
    );
    if (values.help === true) {
      console.log(USAGE);
      return 0;
    }
    const file = values.config;
    if (file === undefined) throw new InputError(`missing --config CONFIG.yml\n${USAGE}`);
    let config: ClusterConfig;
    try {
      const parsed = await loadConfigFile(file, values.cluster === undefined ? {} : { clusterId: values.cluster });
      for (const w of parsed.warnings) console.error(`warning: ${file}: ${w}`);
      config = parsed.config;
    } catch (e) {
      if (e instanceof ConfigFileError) throw new InputError(e.message, { cause: e });
      throw e;
    }
    const vms = config.Containers.CloudVMs;
    const base = `Clusters.${config.ClusterID}.Containers`;
    if (vms.Driver !== 'ec2') {
      throw new InputError(`${file}: ${base}.CloudVMs.Driver: expected "ec2" (the only cloud driver cloudtest can check), got ${JSON.stringify(vms.Driver)}`);
    }
    let key;
    try {
      key = parseDispatchPrivateKey(config.Containers.DispatchPrivateKey);
    } catch (e) {
      throw new InputError(`${file}: ${base}.DispatchPrivateKey: ${e instanceof Error ? e.message : String(e)}`);
    }
    const imageId = values['image-id'] ?? vms.ImageID;
    if (imageId === '') throw new InputError(`${file}: ${base}.CloudVMs.ImageID: expected an image ID (or --image-id), got nothing`);
    const type = chooseType(config, values['instance-type'], file);
    const setId = values['instance-set-id'] ?? DEFAULT_SET_ID;

    const clock = new SystemClock();
    const logger = createLogger({ level: 'warn', secrets: [config.SystemRootToken, config.ManagementToken].filter((s) => s !== '') });
    let parsedParams;
    try {
      parsedParams = parseDriverParams(vms.DriverParameters, `${base}.CloudVMs.DriverParameters`);
    } catch (e) {
      if (e instanceof ConfigError) throw new InputError(`${file}: ${e.message}`, { cause: e });
      throw e;
    }
    for (const k of parsedParams.unknownKeys) console.error(`warning: ${file}: ${base}.CloudVMs.DriverParameters.${k}: unknown key, ignored`);
    const params = parsedParams.params;
    // As in Arvados: with several subnets, the whole test runs once per subnet.
    const variants = params.SubnetIDs.length > 1 ? params.SubnetIDs.map((s) => ({ ...params, SubnetIDs: [s] })) : [params];
    let ok = true;
    for (const p of variants) {
      if (variants.length > 1) console.error(`cloudtest: testing subnet ${p.SubnetIDs[0] ?? ''}`);
      const instanceSet: InstanceSet = new Ec2InstanceSet({ params: p, instanceSetId: setId, logger, clock });
      try {
        const result = await runCloudTest({
          instanceSet,
          newExecutor: sshExecutorFactory({ signers: key.signers, clock, defaultPort: vms.SSHPort, logger }),
          clock,
          log: (line) => console.error(`cloudtest: ${line}`),
          instanceSetId: setId,
          tagKeyPrefix: vms.TagKeyPrefix,
          resourceTags: vms.ResourceTags,
          type,
          imageId,
          instanceInitCommand: vms.InstanceInitCommand,
          publicKey: vms.DeployPublicKey ? key.publicKeyLine : null,
          bootProbeCommand: vms.BootProbeCommand,
          ...(values.command !== undefined ? { command: values.command } : {}),
          destroyExisting: values['destroy-existing'] === true,
          secret: randomBytes(20).toString('hex'),
          pid: process.pid,
          syncIntervalMs: vms.SyncInterval,
          probeIntervalMs: vms.ProbeInterval,
          timeoutBootingMs: vms.TimeoutBooting,
          timeoutShutdownMs: Math.max(vms.TimeoutShutdown, 10 * 60_000),
          sshPort: vms.SSHPort,
          ...(values['pause-before-destroy'] === true ? { pause: waitForEnter } : {}),
        });
        ok &&= result.ok;
      } finally {
        instanceSet.stop();
      }
    }
    return ok ? 0 : 1;
  },
};

/** --instance-type, or the cheapest configured type (ties by name), as Arvados picks it. */
function chooseType(config: ClusterConfig, name: string | undefined, file: string): InstanceType {
  const types = Object.values(config.InstanceTypes);
  if (name !== undefined) {
    const t = config.InstanceTypes[name];
    if (t === undefined) {
      throw new InputError(`--instance-type: ${JSON.stringify(name)} is not in ${file} InstanceTypes (configured: ${types.map((x) => x.name).sort().join(', ')})`);
    }
    return t;
  }
  const cheapest = [...types].sort((a, b) => a.price - b.price || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
  if (cheapest === undefined) throw new InputError(`${file}: Clusters.${config.ClusterID}.InstanceTypes: expected at least one instance type`);
  return cheapest;
}

async function waitForEnter(): Promise<void> {
  console.error('cloudtest: press Enter to destroy the instance');
  const rl = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => rl.once('line', () => resolve()).once('close', () => resolve()));
  rl.close();
}
