import { executorContract } from '../../test/contracts/executor.contract.js';
import { inProcessEnv } from '../../test/fixtures/ssh-contract-envs.js';

executorContract('SshExecutor against the in-process server of simulated VMs', inProcessEnv);
