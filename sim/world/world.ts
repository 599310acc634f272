import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ClusterConfig } from '../../core/config/cluster-config.js';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import type { Timer } from '../../core/ports/clock.js';
import { describeError } from '../../core/ports/errors.js';
import { nullLogger, type Logger } from '../../core/ports/logger.js';
import { SystemClock } from '../../prod/system-clock.js';
import { SimulatedCloud } from '../cloud/simulated-cloud.js';
import { StubHttpServer } from '../controller/http-server.js';
import { StubController } from '../controller/stub-controller.js';
import { Ec2Endpoint } from '../ec2/ec2-endpoint.js';
import { SimWorld } from '../runner/sim-world.js';
import { toStubRequest } from '../runner/stub-request.js';
import type { Scenario } from '../scenario/scenario.js';
import { SshTransport } from '../ssh/ssh-transport.js';
import { SimulatedVm, type SimulatedVmOptions } from '../vm/simulated-vm.js';
import { generateWorkloadReport } from '../workload/generate.js';
import type { ContainerRequestSpec } from '../workload/types.js';
import { LoopbackAddressedSet } from './loopback-addressed-set.js';
import { worldClusterConfig } from './world-config.js';
import { scheduleWorldFaults } from './world-faults.js';
import { worldStatus, type WorldStatus } from './world-status.js';

export interface WorldOptions {
  readonly logger?: Logger;
  /** The SSH login user of the VMs (DriverParameters.AdminUsername). Default `crunch`. */
  readonly adminUsername?: string;
}

/**
 * A VM that also stops its SSH server when it halts (destroyed, died, interrupted): the
 * address then refuses connections, as a terminated instance's would.
 */
class WorldVm extends SimulatedVm {
  constructor(
    opts: SimulatedVmOptions,
    private readonly haltListener: () => void,
  ) {
    super(opts);
  }

  override halt(reason: string): void {
    super.halt(reason);
    this.haltListener();
  }
}

/**
 * A scenario's simulated world served on loopback in real time: the stub controller over
 * HTTP, the simulated cloud behind the EC2 Query API, and one SSH server per VM, so that
 * `vmdispatch serve` runs against it with production adapters only. The workload is
 * submitted on the real clock (times from the start), faults too; `clusterConfig()` is the
 * config `serve` needs. The world never ends by itself: `close()` it.
 */
export class World {
  private closed = false;

  private constructor(
    readonly scenario: Scenario,
    readonly startMs: number,
    readonly config: ClusterConfig,
    readonly controller: StubController,
    readonly cloud: SimulatedCloud,
    readonly simWorld: SimWorld,
    readonly controllerUrl: string,
    readonly ec2Url: string,
    /** The dispatcher's SSH private key (OpenSSH format): the only key the VMs accept. */
    readonly dispatchPrivateKey: string,
    /** A free loopback port for the daemon's management API (picked at start). */
    readonly managementPort: number,
    readonly adminUsername: string,
    private readonly workloadSize: number,
    private readonly stopTimers: () => void,
    private readonly closers: readonly (() => Promise<void>)[],
  ) {}

  /** Starts every server. @throws Error "starting the world: cause" */
  static async start(scenario: Scenario, opts: WorldOptions = {}): Promise<World> {
    const logger = opts.logger ?? nullLogger;
    // Unref'd: only the servers keep the process up, so it ends once they are closed.
    const clock = new SystemClock({ unref: true });
    const startMs = clock.now();
    const config: ClusterConfig = {
      ...scenario.config,
      SystemRootToken: scenario.config.SystemRootToken !== '' ? scenario.config.SystemRootToken : randomToken(),
      ManagementToken: scenario.config.ManagementToken !== '' ? scenario.config.ManagementToken : randomToken(),
    };
    const root = new SeededRng(String(scenario.seed));
    const types = Object.values(config.InstanceTypes);
    const requests = generateWorkloadReport(scenario.workload, {
      rng: root.fork('workload'),
      scenarioDir: scenario.dir,
      largestTypeVCPUs: Math.max(...types.map((t) => t.vcpus)),
    }).requests;
    const specs = new Map<string, ContainerRequestSpec>(requests.map((r) => [r.id, r]));
    const controller = new StubController({
      clock,
      clusterId: config.ClusterID,
      maxDispatchAttempts: config.Containers.MaxDispatchAttempts,
      maxRetryAttempts: config.Containers.MaxRetryAttempts,
      priorityMode: requests.some((r) => r.priority > 1000n) ? 'as-given' : 'arvados',
      recordTransitions: true,
    });
    const simWorld = new SimWorld(clock, startMs, controller, specs, logger);
    const transport = new SshTransport({ clock, logger });
    const addresses = new Map<string, string>();
    const adminUsername = opts.adminUsername ?? 'crunch';
    const cloud = new SimulatedCloud({
      clock,
      rng: root.fork('cloud'),
      instanceTypes: types,
      behavior: scenario.cloud,
      logger,
      startMs,
      remoteUser: adminUsername,
      createVm: (spec) => {
        let halted = false;
        const id = spec.instanceId;
        const vm = new WorldVm({ ...spec, clock, world: simWorld, behavior: { bootProbeCommand: config.Containers.CloudVMs.BootProbeCommand }, logger }, () => {
          halted = true;
          addresses.delete(id);
          void transport.stopVm(id);
        });
        transport.startVm(id, vm).then(
          (server) => {
            if (halted) void transport.stopVm(id);
            else addresses.set(id, server.address);
          },
          (e: unknown) => logger.error('starting a VM SSH server', { instanceId: id, error: describeError(e) }),
        );
        return vm;
      },
    });
    simWorld.attachCloud(cloud);

    const closers: (() => Promise<void>)[] = [() => transport.close()];
    const closeAll = async () => {
      for (const c of [...closers].reverse()) await c().catch(() => {});
    };
    try {
      const http = new StubHttpServer({
        stub: controller,
        tokens: { [config.SystemRootToken]: { authUuid: controller.dispatcherAuthUuid, admin: true } },
      });
      const controllerUrl = await http.start();
      closers.push(() => http.close());
      const ec2 = await Ec2Endpoint.start({
        instanceSet: new LoopbackAddressedSet(cloud, (id) => addresses.get(id) ?? ''),
        types,
        now: () => clock.now(),
      });
      closers.push(() => ec2.close());
      const managementPort = await freeLoopbackPort();

      const timers: Timer[] = [];
      for (const r of requests) {
        timers.push(clock.setTimer(startMs + r.submitAt - clock.now(), () => controller.submitRequest(toStubRequest(r, config))));
      }
      const cancelFaults = scheduleWorldFaults(scenario.faults, { clock, startMs, controller, cloud, logger });
      const stopTimers = () => {
        for (const t of timers) t.cancel();
        cancelFaults();
      };
      return new World(
        scenario,
        startMs,
        config,
        controller,
        cloud,
        simWorld,
        controllerUrl,
        ec2.url,
        transport.dispatchKey.private,
        managementPort,
        adminUsername,
        requests.length,
        stopTimers,
        closers,
      );
    } catch (e) {
      await closeAll();
      throw new Error(`starting the world: ${describeError(e)}`, { cause: e });
    }
  }

  /**
   * The Arvados cluster config (YAML text) that points `vmdispatch serve` at this world.
   * @param keyFile absolute path of the file holding `dispatchPrivateKey` (referenced as file://)
   */
  clusterConfig(keyFile: string): string {
    return worldClusterConfig(this, keyFile);
  }

  /** What happened so far: outcomes, double starts, instances (for `--summary-out`). */
  status(): WorldStatus {
    return worldStatus(this, this.workloadSize);
  }

  /** Stops submitting, closes every server (VMs stop answering). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    for (const c of [...this.closers].reverse()) await c().catch(() => {});
  }
}

/** Letters and digits only, as Arvados requires of tokens. */
function randomToken(): string {
  return randomBytes(20).toString('hex');
}

/** A loopback port free right now (bound and released: the daemon binds it soon after). */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
