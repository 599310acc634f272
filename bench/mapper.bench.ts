// The mapper policy at scale: one pure pass over a queue of Locked containers, a pool of
// idle/booting/running VMs and 400 instance types. Every container must be placed (started,
// allocated to a booting VM, or given a new instance): a pass that stopped early would look
// fast, so the benchmark fails instead.
import type { ClusterConfig } from '../core/config/cluster-config.js';
import type { Container } from '../core/domain/container.js';
import { NO_GPU, type InstanceType } from '../core/domain/instance-type.js';
import { SeededRng } from '../core/domain/seeded-rng.js';
import { WORKER_STATES, type InstanceView, type PoolSnapshot, type WorkerState } from '../core/pool/pool-api.js';
import type { QueueEntry } from '../core/queue/queue-snapshot.js';
import { SizingCache } from '../core/queue/sizing-cache.js';
import { arvadosPolicy } from '../core/scheduler/arvados-policy.js';
import type { MapperInput } from '../core/scheduler/policy.js';
import { measure, perSecond, type Benchmark, type BenchRow } from './benchmark.js';

const GIB = 2 ** 30;
const SIZES = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192];
const RAM_PER_VCPU = [2, 4, 8];

/** 400 types: families of sizes, priced per VCPU and GiB with a per-family discount. */
function makeTypes(count: number, rng: SeededRng): InstanceType[] {
  const out: InstanceType[] = [];
  for (let f = 0; out.length < count; f++) {
    const ramPer = RAM_PER_VCPU[f % RAM_PER_VCPU.length]!;
    const discount = 0.8 + rng.next() * 0.4;
    for (const v of SIZES) {
      if (out.length >= count) break;
      const name = `f${f}.${v}x`;
      out.push({
        name,
        providerType: name,
        vcpus: v,
        ram: v * ramPer * GIB,
        scratch: v * 16 * GIB,
        includedScratch: v * 16 * GIB,
        addedScratch: 0,
        price: Math.round((v * 0.02 + v * ramPer * 0.004) * discount * 10_000) / 10_000,
        preemptible: false,
        gpu: NO_GPU,
      });
    }
  }
  return out;
}

function makeConfig(types: readonly InstanceType[]): ClusterConfig {
  const cfg = {
    ClusterID: 'zzzzz',
    SystemRootToken: '',
    ManagementToken: '',
    Services: { Controller: { ExternalURL: '' }, DispatchCloud: { InternalURLs: [] } },
    TLS: { Insecure: false },
    PostgreSQL: { Connection: {} },
    API: { MaxConcurrentRequests: 0, RequestTimeout: 0 },
    Containers: {
      ReserveExtraRAM: 550 * 2 ** 20,
      LocalKeepBlobBuffersPerVCPU: 1,
      MaximumPriceFactor: 1.5,
      CloudVMs: {
        MaxInstances: 0,
        InitialQuotaEstimate: 0,
        SupervisorFraction: 0,
        MaxConcurrentInstanceCreateOps: 0,
        MaxRunningContainersPerInstance: 0,
      },
    },
    InstanceTypes: Object.fromEntries(types.map((t) => [t.name, t])),
  };
  // Only the fields the mapper and sizing read are filled in.
  return cfg as unknown as ClusterConfig;
}

interface Scenario {
  readonly input: MapperInput;
  /** Locked, not running: each must be placed. */
  readonly toPlace: number;
}

function scenario(containers: number, vms: number, typeCount: number): Scenario {
  const rng = new SeededRng(`bench/mapper/${containers}/${vms}/${typeCount}`);
  const types = makeTypes(typeCount, rng);
  const config = makeConfig(types);
  const sizing = new SizingCache(config);
  const entries = new Map<string, QueueEntry>();
  const running = new Map<string, number>();
  const instances: InstanceView[] = [];
  const counts = Object.fromEntries(WORKER_STATES.map((s) => [s, 0])) as Record<WorkerState, number>;
  let toPlace = 0;
  const base = 1_700_000_000_000;
  const make = (i: number, state: Container['state']): Container => {
    const vcpus = [1, 1, 2, 4, 8, 16][rng.int(0, 5)]!;
    return {
      uuid: `zzzzz-dz642-${String(i).padStart(15, '0')}`,
      state,
      priority: BigInt(rng.int(1, 1000)) * 2n ** 50n - BigInt(i),
      lockedByUuid: null,
      runtimeConstraints: {
        vcpus,
        ram: vcpus * [1, 2, 3][rng.int(0, 2)]! * GIB,
        keepCacheRam: 0,
        keepCacheDisk: 0,
        api: false,
        gpu: { stack: '', deviceCount: 0, driverVersion: '', hardwareTarget: [], vram: 0 },
      },
      schedulingParameters: { preemptible: false, partitions: [], maxRunTime: 0, supervisor: false },
      containerImage: 'd41d8cd98f00b204e9800998ecf8427e+0',
      mounts: {},
      createdAt: base,
    };
  };
  const add = (i: number, state: Container['state']): QueueEntry => {
    const ctr = make(i, state);
    const s = sizing.size(ctr);
    const ent: QueueEntry = { container: ctr, resources: s.resources, instanceTypes: s.instanceTypes, firstSeenAt: base + i };
    entries.set(ctr.uuid, ent);
    return ent;
  };
  let n = 0;
  for (let v = 0; v < vms; v++) {
    const r = rng.next();
    const state: WorkerState = r < 0.4 ? 'idle' : r < 0.8 ? 'running' : 'booting';
    let uuids: string[] = [];
    // Half the VMs are of a type some container shape prefers, half of any type.
    let type = rng.next() < 0.5 ? types[rng.int(0, types.length - 1)]! : sizing.size(make(-1, 'Locked')).instanceTypes[0]!;
    if (state === 'running') {
      const ent = add(n++, 'Running');
      type = ent.instanceTypes[0]!;
      uuids = [ent.container.uuid];
      running.set(ent.container.uuid, 0);
    }
    counts[state]++;
    instances.push({
      instanceId: `i-${String(v).padStart(8, '0')}`,
      address: '',
      price: type.price,
      instanceType: type,
      state,
      idleBehavior: 'run',
      runningContainerUuids: uuids,
      lastContainerUuid: '',
      lastBusy: 0,
    });
  }
  while (n < containers) {
    add(n++, 'Locked');
    toPlace++;
  }
  const pool: PoolSnapshot = {
    instances,
    running,
    workerCounts: counts,
    atQuota: false,
    createBlocked: false,
    atCapacity: () => false,
  };
  return {
    input: { queue: { entries, updatedAt: base }, pool, config, now: base, last503: 0, state: { maxContainers: 0, instancesWithinQuota: 0, last503Seen: 0 } },
    toPlace,
  };
}

async function pass(containers: number, vms: number, types: number): Promise<BenchRow> {
  const sc = scenario(containers, vms, types);
  let plan = null as ReturnType<typeof arvadosPolicy.plan> | null;
  const ms = await measure(() => {
    plan = arvadosPolicy.plan(sc.input);
  });
  if (plan === null) throw new Error('mapper benchmark: no plan');
  const p: ReturnType<typeof arvadosPolicy.plan> = plan;
  const placed = p.start.length + p.metrics.allocatedNotStarted;
  if (placed !== sc.toPlace) {
    throw new Error(`mapper benchmark: placed ${placed} of ${sc.toPlace} containers that fit (${containers} containers, ${vms} VMs)`);
  }
  return {
    case: `${containers / 1000}k containers x ${vms} VMs x ${types} types`,
    figures: {
      'pass ms': ms,
      'containers/s': perSecond(containers, ms),
      starts: p.start.length,
      creates: p.create.length,
    },
  };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'mapper',
    description: 'arvados mapper policy, one pass; every container that fits must be placed',
    async run() {
      return [
        await pass(1_000, 100, 400),
        await pass(10_000, 1_000, 400),
        await pass(20_000, 2_000, 400),
        await pass(100_000, 10_000, 400),
      ];
    },
  },
];
