import { describe, it } from 'vitest';
import { executorContract } from '../../test/contracts/executor.contract.js';
import { sshdEnv } from '../../test/fixtures/ssh-contract-envs.js';
import { sshdAvailable, SSHD_PATH } from '../../test/fixtures/ssh-sshd.js';

if (sshdAvailable()) {
  executorContract('SshExecutor against OpenSSH sshd', sshdEnv);
} else {
  describe('SshExecutor against OpenSSH sshd', () => {
    it.skip(`skipped: ${SSHD_PATH} is absent (install openssh-server; on CI these tests always run)`, () => {});
  });
}
