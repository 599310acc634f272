import type { ClusterConfig } from './config/cluster-config.js';
import { wrapInstanceSet } from './cloud/wrap-instance-set.js';
import { Dispatcher } from './dispatcher.js';
import type { CrunchRunEnv } from './pool/config-data.js';
import { Pool } from './pool/pool.js';
import type { RunnerDeployment } from './pool/worker.js';
import type { Clock } from './ports/clock.js';
import type { ControllerApi } from './ports/controller.js';
import type { ExecutorFactory } from './ports/executor.js';
import type { InstanceSet } from './ports/instance-set.js';
import type { Logger } from './ports/logger.js';
import type { Metrics } from './ports/metrics.js';
import type { Rng } from './ports/rng.js';
import type { MapperPolicy } from './scheduler/policy.js';

export interface CoreOptions {
  readonly config: ClusterConfig;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The cloud driver (EC2, or the simulated cloud), undecorated. */
  readonly driver: InstanceSet;
  readonly newExecutor: ExecutorFactory;
  readonly controller: ControllerApi;
  readonly policy: MapperPolicy;
  /** From the token (core/config/instance-set-id.ts): marks the VMs that are ours. */
  readonly instanceSetId: string;
  readonly runner: RunnerDeployment | null;
  readonly crunchRunEnv: CrunchRunEnv;
  readonly driverName: string;
  readonly publicKey: string | null;
  readonly commandTimeoutMs?: number;
}

export interface Core {
  readonly pool: Pool;
  readonly dispatcher: Dispatcher;
}

/**
 * One dispatcher, wired the same way in both worlds: the driver behind Arvados' decorator
 * chain, the worker pool on it, and the queue and scheduler on the pool. `vmdispatch
 * serve` passes production adapters; the simulator passes the simulated world. Keeping
 * this in one place is what makes the simulator's decisions production's decisions.
 */
export function assembleCore(o: CoreOptions): Core {
  const instanceSet = wrapInstanceSet(o.driver, {
    config: o.config.Containers.CloudVMs,
    clock: o.clock,
    logger: o.logger,
    metrics: o.metrics,
  });
  const pool = new Pool({
    config: o.config,
    clock: o.clock,
    rng: o.rng,
    logger: o.logger,
    metrics: o.metrics,
    instanceSet,
    newExecutor: o.newExecutor,
    instanceSetId: o.instanceSetId,
    runner: o.runner,
    crunchRunEnv: o.crunchRunEnv,
    systemRootToken: o.config.SystemRootToken,
    driverName: o.driverName,
    publicKey: o.publicKey,
    clusterJson: o.config.SourceBody,
    ...(o.commandTimeoutMs !== undefined ? { commandTimeoutMs: o.commandTimeoutMs } : {}),
  });
  const dispatcher = new Dispatcher({
    config: o.config,
    clock: o.clock,
    logger: o.logger,
    metrics: o.metrics,
    controller: o.controller,
    pool,
    policy: o.policy,
  });
  return { pool, dispatcher };
}
