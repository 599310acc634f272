import { performance } from 'node:perf_hooks';
import { assembleCore, type Core } from '../../core/assemble.js';
import type { ClusterConfig } from '../../core/config/cluster-config.js';
import { instanceSetIdFromToken } from '../../core/config/instance-set-id.js';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import type { ExecutorFactory } from '../../core/ports/executor.js';
import { nullLogger, type Logger } from '../../core/ports/logger.js';
import { nullMetrics } from '../../core/ports/metrics.js';
import { findPolicy } from '../../core/scheduler/policies.js';
import { SimulatedCloud } from '../cloud/simulated-cloud.js';
import { StubController } from '../controller/stub-controller.js';
import { EventEngine } from '../engine/event-engine.js';
import type { Scenario } from '../scenario/scenario.js';
import { directExecutorFactory } from '../vm/direct-executor.js';
import { SimulatedVm } from '../vm/simulated-vm.js';
import { generateWorkloadReport } from '../workload/generate.js';
import type { ContainerRequestSpec } from '../workload/types.js';
import { scheduleFaults } from './faults.js';
import { Sampler } from './sampler.js';
import { SimWorld } from './sim-world.js';
import { summarize, type RunResult } from './summarize.js';
import { toStubRequest } from './stub-request.js';

/** Simulated time 0: 2026-01-01T00:00:00Z, so container timestamps look real. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);
/** The token of simulated clusters whose config has none. */
const SIM_TOKEN = 'simulatedsystemroottokenfordispatch';

export interface Progress {
  readonly simulatedSeconds: number;
  readonly horizonSeconds: number;
  readonly requests: number;
  readonly finished: number;
  readonly instances: number;
}

/** How simulated VMs are reached: in process (`direct`) or over real SSH on loopback. */
export interface Transport {
  readonly name: 'direct' | 'ssh';
  /** Makes the executor factory for a world; `close` releases servers and connections. */
  setUp(world: { engine: EventEngine; cloud: SimulatedCloud }): Promise<{ newExecutor: ExecutorFactory; close(): Promise<void> }>;
  /** Extra wiring of every new VM (e.g. start its SSH server). */
  readonly onVm?: (vm: SimulatedVm) => void;
}

export const directTransport: Transport = {
  name: 'direct',
  setUp: ({ engine, cloud }) =>
    Promise.resolve({
      newExecutor: directExecutorFactory({ clock: engine, locate: cloud.locate }),
      close: () => Promise.resolve(),
    }),
};

export interface RunOptions {
  readonly transport?: Transport;
  readonly logger?: Logger;
  /** Called now and then (wall time) while the run goes on. */
  readonly onProgress?: (p: Progress) => void;
  readonly progressEveryMs?: number;
  /**
   * Called once the world is built, before the clock runs: lets a test (or a tool) arm its
   * own events on the engine against the controller and cloud, for what the scenario schema
   * has no words for.
   */
  readonly onWorld?: (w: { readonly engine: EventEngine; readonly controller: StubController; readonly cloud: SimulatedCloud; readonly startMs: number }) => void;
}

/**
 * Runs a scenario: the production core (queue, scheduler, pool) against the simulated
 * world (stub controller, simulated cloud and VMs) on the virtual clock, until the workload
 * is done and the cloud is empty, or the horizon. Deterministic: the same scenario and seed
 * give the same result, apart from wall time.
 */
export async function runScenario(scenario: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const wallStart = performance.now();
  const logger = opts.logger ?? nullLogger;
  const transport = opts.transport ?? directTransport;
  const policy = findPolicy(scenario.policy);
  if (policy === undefined) throw new Error(`running scenario: unknown policy ${scenario.policy}`);
  const config = simConfig(scenario.config);
  const root = new SeededRng(String(scenario.seed));
  const engine = new EventEngine({ startMs: SIM_EPOCH_MS });

  const types = Object.values(config.InstanceTypes);
  const workload = generateWorkloadReport(scenario.workload, {
    rng: root.fork('workload'),
    scenarioDir: scenario.dir,
    largestTypeVCPUs: Math.max(...types.map((t) => t.vcpus)),
  });
  const requests = workload.requests;
  const specs = new Map<string, ContainerRequestSpec>(requests.map((r) => [r.id, r]));
  const controller = new StubController({
    clock: engine,
    clusterId: config.ClusterID,
    maxDispatchAttempts: config.Containers.MaxDispatchAttempts,
    maxRetryAttempts: config.Containers.MaxRetryAttempts,
    priorityMode: requests.some((r) => r.priority > 1000n) ? 'as-given' : 'arvados',
    recordTransitions: true,
  });
  const world = new SimWorld(engine, SIM_EPOCH_MS, controller, specs, logger);
  const cloud = new SimulatedCloud({
    clock: engine,
    rng: root.fork('cloud'),
    instanceTypes: types,
    behavior: scenario.cloud,
    logger,
    startMs: SIM_EPOCH_MS,
    createVm: (spec) => {
      const vm = new SimulatedVm({
        ...spec,
        clock: engine,
        world,
        behavior: { bootProbeCommand: config.Containers.CloudVMs.BootProbeCommand },
        logger,
      });
      transport.onVm?.(vm);
      return vm;
    },
  });
  world.attachCloud(cloud);
  const link = await transport.setUp({ engine, cloud });

  let generation = 0;
  const startCore = (): Core => {
    const core = assembleCore({
      config,
      clock: engine,
      rng: root.fork(`dispatcher-${generation++}`),
      logger,
      metrics: nullMetrics,
      driver: cloud,
      newExecutor: link.newExecutor,
      controller,
      policy,
      instanceSetId: instanceSetIdFromToken(config.SystemRootToken),
      runner: null,
      crunchRunEnv: { apiHost: `${config.ClusterID}.example.com`, apiToken: config.SystemRootToken, insecure: false },
      driverName: 'ec2',
      publicKey: null,
    });
    core.dispatcher.start();
    return core;
  };
  let core = startCore();

  for (const r of requests) {
    engine.setTimer(r.submitAt, () => controller.submitRequest(toStubRequest(r, config)));
  }
  scheduleFaults(scenario.faults, engine, {
    controller,
    cloud,
    startMs: SIM_EPOCH_MS,
    restartDispatcher: () => {
      // A crash: the old core's state is gone; the cloud, its VMs and their crunch-run
      // processes, and the controller are as it left them.
      core.dispatcher.stop();
      core = startCore();
    },
  });

  opts.onWorld?.({ engine, controller, cloud, startMs: SIM_EPOCH_MS });

  const lastSubmit = requests.length > 0 ? requests[requests.length - 1]!.submitAt : 0;
  const sampler = new Sampler({
    engine,
    startMs: SIM_EPOCH_MS,
    controller,
    cloud,
    requestCount: requests.length,
    lastSubmitMs: lastSubmit,
    horizonMs: scenario.horizonMs,
    // After the last container ends, every timeout that could still shut a VM down.
    graceMs: drainGrace(config),
    onProgress: opts.onProgress,
    progressEveryMs: opts.progressEveryMs ?? 250,
  });
  sampler.start();
  const result = await engine.run({ horizon: SIM_EPOCH_MS + scenario.horizonMs });
  sampler.finish();
  const endMs = engine.now();
  core.dispatcher.stop();
  await link.close();

  return summarize({
    scenario,
    transport: transport.name,
    startMs: SIM_EPOCH_MS,
    endMs,
    endReason: sampler.doneAt !== null ? 'done' : 'horizon',
    workloadDoneAtMs: sampler.workloadDoneAt,
    events: result.events,
    wallSeconds: (performance.now() - wallStart) / 1000,
    config,
    controller,
    cloud,
    world,
    queue: core.dispatcher.containers(),
    series: sampler.series(),
    skipped: workload.skipped.reduce((n, s) => n + Object.values(s.reasons).reduce((a, b) => a + b, 0), 0),
  });
}

/** The scenario's config with a token when it has none (the token names our VMs' tag). */
function simConfig(config: ClusterConfig): ClusterConfig {
  return config.SystemRootToken !== '' ? config : { ...config, SystemRootToken: SIM_TOKEN };
}

function drainGrace(config: ClusterConfig): number {
  const c = config.Containers.CloudVMs;
  return c.TimeoutIdle + c.TimeoutBooting + c.TimeoutShutdown + 2 * c.SyncInterval + 2 * c.ProbeInterval + c.PollInterval + 60_000;
}
