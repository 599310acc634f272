// The cluster config Arvados' defaults give (parsed by the real parser from an empty cluster
// body), for test builders to start from, so that they spell out only what they change.
import type { ClusterConfig, CloudVMsConfig, ContainersConfig } from '../../core/config/cluster-config.js';
import { parseClusterConfigDocument } from '../../core/config/parse-cluster-config.js';

let defaults: ClusterConfig | undefined;

/** `Clusters.zzzzz` with every default, parsed once. */
export function defaultClusterConfig(): ClusterConfig {
  return (defaults ??= parseClusterConfigDocument({ Clusters: { zzzzz: {} } }).config);
}

/** Defaults with the given changes: top-level keys replace, `Containers` and its `CloudVMs` merge. */
export function clusterWith(over: {
  readonly top?: Partial<Omit<ClusterConfig, 'Containers'>>;
  readonly containers?: Partial<Omit<ContainersConfig, 'CloudVMs'>>;
  readonly cloudVMs?: Partial<CloudVMsConfig>;
}): ClusterConfig {
  const d = defaultClusterConfig();
  return {
    ...d,
    ...over.top,
    Containers: { ...d.Containers, ...over.containers, CloudVMs: { ...d.Containers.CloudVMs, ...over.cloudVMs } },
  };
}
