import type { ContainerRequestSpec } from './records.js';

/** A container request with small, valid defaults; override what a test cares about. */
export function requestSpec(id: string, priority: bigint | number = 1n, over: Partial<ContainerRequestSpec> = {}): ContainerRequestSpec {
  return {
    id,
    priority: BigInt(priority),
    runtimeConstraints: {
      vcpus: 1,
      ram: 1 << 30,
      keepCacheRam: 0,
      keepCacheDisk: 0,
      api: false,
      gpu: { stack: '', deviceCount: 0, driverVersion: '', hardwareTarget: [], vram: 0 },
    },
    schedulingParameters: { preemptible: false, partitions: [], maxRunTime: 0, supervisor: false },
    containerImage: 'd41d8cd98f00b204e9800998ecf8427e+0',
    mounts: { '/tmp': { kind: 'tmp', capacity: 1 << 30 } },
    ...over,
  };
}
