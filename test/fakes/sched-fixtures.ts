// Builders for scheduler tests: cluster configs, instance types and containers shaped like
// the reference's lib/dispatchcloud/test/fixtures.go.
import type { ClusterConfig, CloudVMsConfig, ContainersConfig } from '../../core/config/cluster-config.js';
import type { Container, ContainerState } from '../../core/domain/container.js';
import { NO_GPU, type InstanceType } from '../../core/domain/instance-type.js';
import { clusterWith } from './cluster-defaults.js';

export const GIB = 2 ** 30;
export const MIB = 2 ** 20;

/** `zzzzz-dz642-%015d`, as the reference's test.ContainerUUID. */
export function containerUuid(i: number): string {
  return `zzzzz-dz642-${String(i).padStart(15, '0')}`;
}

/** `type<i>`: i VCPUs, 1.1·i GiB RAM, i GiB scratch, price 0.123·i. */
export function instanceType(i: number, over: Partial<InstanceType> = {}): InstanceType {
  return {
    name: `type${i}`,
    providerType: `providertype${i}`,
    vcpus: i,
    ram: Math.trunc(1.1 * i * GIB),
    scratch: i * GIB,
    includedScratch: i * GIB,
    addedScratch: 0,
    price: 0.123 * i,
    preemptible: false,
    gpu: NO_GPU,
    ...over,
  };
}

export function typeMap(types: readonly InstanceType[]): Record<string, InstanceType> {
  return Object.fromEntries(types.map((t) => [t.name, t]));
}

export interface TestClusterOptions {
  readonly types?: readonly InstanceType[];
  readonly containers?: Partial<ContainersConfig>;
  readonly cloudVMs?: Partial<CloudVMsConfig>;
}

/**
 * A cluster like the reference's run_queue tests use: no RAM reserve or blob buffers (so a
 * container needs only its RAM / 0.95), MaximumPriceFactor 0 (cheapest type only), and
 * MaxInstances 10, SupervisorFraction 0.2, unless overridden.
 */
export function testCluster(opts: TestClusterOptions = {}): ClusterConfig {
  const types = opts.types ?? [1, 2, 3, 4, 6, 8, 16].map((i) => instanceType(i));
  // Arvados' defaults, except what the reference's test fixtures change.
  return clusterWith({
    top: {
      SystemRootToken: 'root-token',
      ManagementToken: 'management-token',
      Services: { Controller: { ExternalURL: 'https://127.0.0.1:1' }, DispatchCloud: { InternalURLs: [] } },
      InstanceTypes: typeMap(types),
    },
    containers: { ReserveExtraRAM: 0, LocalKeepBlobBuffersPerVCPU: 0, MaximumPriceFactor: 0, ...opts.containers },
    cloudVMs: {
      Enable: true,
      BootProbeCommand: '',
      MaxCloudOpsPerSecond: 0,
      MaxConcurrentInstanceCreateOps: 0,
      MaxInstances: 10,
      SupervisorFraction: 0.2,
      DeployRunnerBinary: '',
      DeployPublicKey: false,
      Driver: 'test',
      ...opts.cloudVMs,
    },
  });
}

export interface ContainerOptions {
  readonly state?: ContainerState;
  readonly priority?: number | bigint;
  readonly vcpus?: number;
  readonly ram?: number;
  readonly keepCacheDisk?: number;
  readonly supervisor?: boolean;
  readonly preemptible?: boolean;
  readonly createdAt?: number;
  readonly lockedByUuid?: string | null;
}

/** Container i, by default Queued, priority 1, 1 VCPU, 1 GiB. */
export function makeContainer(i: number, o: ContainerOptions = {}): Container {
  return {
    uuid: containerUuid(i),
    state: o.state ?? 'Queued',
    priority: BigInt(o.priority ?? 1),
    lockedByUuid: o.lockedByUuid ?? null,
    runtimeConstraints: {
      vcpus: o.vcpus ?? 1,
      ram: o.ram ?? GIB,
      keepCacheRam: 0,
      keepCacheDisk: o.keepCacheDisk ?? 0,
      api: false,
      gpu: { stack: '', deviceCount: 0, driverVersion: '', hardwareTarget: [], vram: 0 },
    },
    schedulingParameters: {
      preemptible: o.preemptible ?? false,
      partitions: [],
      maxRunTime: 0,
      supervisor: o.supervisor ?? false,
    },
    containerImage: 'd41d8cd98f00b204e9800998ecf8427e+0',
    mounts: {},
    createdAt: o.createdAt ?? 0,
    lockCount: 0,
  };
}
