// Which crunch-run the daemon runs on its VMs: a binary it deploys (DeployRunnerBinary), or
// the one installed on the image (CrunchRunCommand).
import { readFile } from 'node:fs/promises';
import type { CloudVMsConfig } from '../../core/config/cluster-config.js';
import { runnerDeployment } from '../../core/pool/runner-deployment.js';
import type { RunnerDeployment } from '../../core/pool/worker.js';

/** Arvados' default DeployRunnerBinary: the dispatcher's own binary (arvados-server). */
export const ARVADOS_SELF_EXE = '/proc/self/exe';

export interface RunnerChoice {
  /** null: run the image's crunch-run (CrunchRunCommand). */
  readonly runner: RunnerDeployment | null;
  /** Set when the configured value was not used, for the daemon to log at warn level. */
  readonly warning: string | null;
}

/**
 * Reads DeployRunnerBinary. `""` means no deployment. The Arvados default `/proc/self/exe`
 * deploys the dispatcher's own binary, which for arvados-dispatch-cloud is arvados-server
 * (crunch-run is one of its personalities); for this Node daemon it is `node`, which cannot
 * run containers, so it is treated as "not set" with a warning. Any other path is read and
 * deployed to `<DeployRunnerDirectory>/crunch-run~<md5>` as the reference does.
 * @throws Error "reading Containers.CloudVMs.DeployRunnerBinary <path>: cause" when the file
 *   cannot be read, or when DeployRunnerDirectory is unusable (the reference's health check
 *   fails the start-up in the same case)
 */
export async function chooseRunner(vms: Pick<CloudVMsConfig, 'DeployRunnerBinary' | 'DeployRunnerDirectory'>): Promise<RunnerChoice> {
  const path = vms.DeployRunnerBinary;
  if (path === '') return { runner: null, warning: null };
  if (path === ARVADOS_SELF_EXE) {
    return {
      runner: null,
      warning:
        'Containers.CloudVMs.DeployRunnerBinary is /proc/self/exe (the Arvados default), which is node for this daemon: ' +
        'not deploying a runner; VMs run their installed crunch-run. Set it to an arvados-server binary, or to "" to silence this',
    };
  }
  let binary: Buffer;
  try {
    binary = await readFile(path);
  } catch (e) {
    throw new Error(`reading Containers.CloudVMs.DeployRunnerBinary ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  if (binary.length === 0) throw new Error(`reading Containers.CloudVMs.DeployRunnerBinary ${path}: the file is empty`);
  return { runner: runnerDeployment(vms.DeployRunnerDirectory, binary), warning: null };
}
