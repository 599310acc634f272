import type { ClusterConfig } from '../config/cluster-config.js';
import type { Container } from '../domain/container.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { Resources } from '../domain/resources.js';
import { chooseInstanceType, resourcesNeeded } from '../domain/node-size.js';

export interface Sizing {
  readonly resources: Resources;
  readonly instanceTypes: readonly InstanceType[];
}

/** Beyond this many distinct shapes the cache starts over (bounded memory). */
const MAX_CACHED_SHAPES = 50_000;

/**
 * Resource needs and type choice, memoized by the container's shape: everything
 * node-size.ts reads (runtime constraints, preemptible, image, tmp mount capacity).
 * Workloads have few shapes, so sizing 100,000 containers costs a few hundred choices.
 *
 * `size` throws ConstraintsNotSatisfiableError as chooseInstanceType does; failures are
 * cached too (the config does not change under a running queue).
 */
export class SizingCache {
  private readonly cache = new Map<string, Sizing | Error>();

  constructor(private readonly cluster: ClusterConfig) {}

  size(ctr: Container): Sizing {
    const key = shapeKey(ctr);
    let hit = this.cache.get(key);
    if (hit === undefined) {
      try {
        hit = { resources: resourcesNeeded(this.cluster, ctr), instanceTypes: chooseInstanceType(this.cluster, ctr) };
      } catch (e) {
        hit = e instanceof Error ? e : new Error(String(e));
      }
      if (this.cache.size >= MAX_CACHED_SHAPES) this.cache.clear();
      this.cache.set(key, hit);
    }
    if (hit instanceof Error) throw hit;
    return hit;
  }

  /** Resource needs only; never throws for an unsatisfiable container. */
  resources(ctr: Container): Resources {
    try {
      return this.size(ctr).resources;
    } catch {
      return resourcesNeeded(this.cluster, ctr);
    }
  }
}

function shapeKey(ctr: Container): string {
  const rc = ctr.runtimeConstraints;
  let tmp = 0;
  for (const m of Object.values(ctr.mounts ?? {})) if (m.kind === 'tmp') tmp += m.capacity;
  const g = rc.gpu;
  return [
    rc.vcpus,
    rc.ram,
    rc.keepCacheRam,
    rc.keepCacheDisk,
    g.stack,
    g.deviceCount,
    g.driverVersion,
    g.hardwareTarget.join(','),
    g.vram,
    ctr.schedulingParameters.preemptible ? 1 : 0,
    ctr.containerImage,
    tmp,
  ].join('|');
}
