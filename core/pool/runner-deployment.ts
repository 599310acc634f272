import { createHash } from 'node:crypto';
import type { RunnerDeployment } from './worker.js';

const SAFE_DIR = /^\/[A-Za-z0-9_.+@%,:=/-]*$/;

/**
 * The deploy data for a runner binary: `<DeployRunnerDirectory>/crunch-run~<md5>`, the
 * md5 the VM's md5sum must show, and the bytes to upload. The naming matches the Go
 * dispatcher's, so the two never overwrite each other's binaries needlessly. Throws when the
 * directory is not an absolute path of plain characters (it ends up in a remote command).
 */
export function runnerDeployment(deployRunnerDirectory: string, binary: Buffer): RunnerDeployment {
  const dir = deployRunnerDirectory.replace(/\/+$/, '');
  if (!SAFE_DIR.test(dir) || dir === '') {
    throw new Error(`preparing runner deployment: DeployRunnerDirectory ${JSON.stringify(deployRunnerDirectory)} must be an absolute path of plain characters`);
  }
  const md5 = createHash('md5').update(binary).digest('hex');
  return { command: `${dir}/crunch-run~${md5}`, md5, binary };
}
