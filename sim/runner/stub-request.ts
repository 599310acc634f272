import type { ClusterConfig } from '../../core/config/cluster-config.js';
import { NO_GPU_REQUEST } from '../../core/domain/container.js';
import type { ContainerRequestSpec as StubRequest } from '../controller/records.js';
import type { ContainerRequestSpec } from '../workload/types.js';

/** A content address for the container image every simulated container uses (size suffix 0: no scratch estimate). */
const IMAGE = 'd41d8cd98f00b204e9800998ecf8427e+0';

/** A workload request as the stub controller takes it (an Arvados container request). */
export function toStubRequest(r: ContainerRequestSpec, config: ClusterConfig): StubRequest {
  return {
    id: r.id,
    priority: r.priority,
    runtimeConstraints: {
      vcpus: r.vcpus,
      ram: r.ram,
      keepCacheRam: r.keepCacheRam ?? config.Containers.DefaultKeepCacheRAM,
      keepCacheDisk: 0,
      api: false,
      gpu: r.gpu ?? NO_GPU_REQUEST,
    },
    schedulingParameters: { preemptible: r.preemptible, partitions: [], maxRunTime: 0, supervisor: false },
    containerImage: IMAGE,
    mounts: {},
    containerCountMax: config.Containers.MaxRetryAttempts,
  };
}
