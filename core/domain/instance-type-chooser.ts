import type { ClusterConfig } from '../config/cluster-config.js';
import { ConstraintsNotSatisfiableError } from '../ports/errors.js';
import type { Container } from './container.js';
import type { InstanceType } from './instance-type.js';
import { chooseInstanceType, resourcesNeeded } from './node-size.js';
import type { Resources } from './resources.js';

type Entry = { readonly types: readonly InstanceType[] } | { readonly error: ConstraintsNotSatisfiableError };

/**
 * Memoizes chooseInstanceType by the constraints that decide it (resources needed,
 * preemptible, GPU stack/driver/targets): a queue of 100,000 containers usually has a few
 * hundred distinct shapes. Bound to one ClusterConfig; make a new chooser when the config
 * changes. Results are frozen and shared between callers: do not mutate them.
 */
export class InstanceTypeChooser {
  private readonly cache = new Map<string, Entry>();

  /** @param maxEntries the cache is cleared when it grows past this (a safety bound). */
  constructor(
    readonly cluster: ClusterConfig,
    private readonly maxEntries = 100_000,
  ) {}

  /**
   * Same result and errors as chooseInstanceType(cluster, ctr).
   * @throws ConstraintsNotSatisfiableError (the same error object for the same constraints)
   */
  choose(ctr: Container): readonly InstanceType[] {
    const need = resourcesNeeded(this.cluster, ctr);
    const key = constraintKey(ctr, need);
    let entry = this.cache.get(key);
    if (entry === undefined) {
      try {
        entry = { types: Object.freeze(chooseInstanceType(this.cluster, ctr)) };
      } catch (e) {
        if (!(e instanceof ConstraintsNotSatisfiableError)) throw e;
        entry = { error: e };
      }
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(key, entry);
    }
    if ('error' in entry) throw entry.error;
    return entry.types;
  }

  /** Number of distinct constraint keys cached. */
  get size(): number {
    return this.cache.size;
  }
}

function constraintKey(ctr: Container, need: Resources): string {
  const gpu = ctr.runtimeConstraints.gpu;
  return `${need.vcpus}|${need.ram}|${need.scratch}|${need.gpus}|${need.gpuVram}|${ctr.schedulingParameters.preemptible ? 1 : 0}|${gpu.stack}|${gpu.driverVersion}|${gpu.hardwareTarget.length}:${gpu.hardwareTarget.join('\u0000')}`;
}
