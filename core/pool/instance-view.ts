import type { InstanceType } from '../domain/instance-type.js';
import type { InstanceView } from './pool-api.js';
import type { Worker } from './worker.js';

/**
 * One row of `GET /arvados/v1/dispatch/instances`, with Arvados' JSON field names. A
 * pending create has `instance` "", zero `last_busy` and `running_container_uuids` null.
 */
export interface InstanceViewJson {
  readonly instance: string;
  readonly address: string;
  readonly price: number;
  readonly arvados_instance_type: string;
  readonly provider_instance_type: string;
  readonly last_container_uuid: string;
  /** RFC 3339; "0001-01-01T00:00:00Z" for never. */
  readonly last_busy: string;
  readonly running_container_uuids: readonly string[] | null;
  readonly worker_state: string;
  readonly idle_behavior: string;
}

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export function instanceViewJson(v: InstanceView): InstanceViewJson {
  const pending = v.instanceId === '';
  return {
    instance: v.instanceId,
    address: v.address,
    price: v.price,
    arvados_instance_type: v.instanceType.name,
    provider_instance_type: v.instanceType.providerType,
    last_container_uuid: v.lastContainerUuid,
    last_busy: v.lastBusy === 0 ? GO_ZERO_TIME : new Date(v.lastBusy).toISOString(),
    running_container_uuids: pending ? null : [...v.runningContainerUuids],
    worker_state: v.state,
    idle_behavior: v.idleBehavior,
  };
}

/** Arvados' order: by instance id, then type name (pending creates first). */
export function compareViews(a: InstanceView, b: InstanceView): number {
  if (a.instanceId !== b.instanceId) return a.instanceId < b.instanceId ? -1 : 1;
  const an = a.instanceType.name;
  const bn = b.instanceType.name;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** The type of a VM whose InstanceType tag names no configured type: it drains. */
export function unconfiguredType(name: string): InstanceType {
  return {
    name,
    providerType: '',
    vcpus: 0,
    ram: 0,
    scratch: 0,
    includedScratch: 0,
    addedScratch: 0,
    price: 0,
    preemptible: false,
    gpu: { stack: '', driverVersion: '', hardwareTarget: '', deviceCount: 0, vram: 0 },
  };
}

export interface PoolViews {
  readonly instances: InstanceView[];
  /** uuid → 0 (starting or running) or exit time (placeholder). */
  readonly running: Map<string, number>;
}

/** Views of every worker and pending create, sorted, plus the running map (O(n log n)). */
export function buildViews(
  workers: Iterable<Worker>,
  creating: Iterable<{ readonly type: InstanceType }>,
  onWorkers: Iterable<string>,
  exited: ReadonlyMap<string, number>,
): PoolViews {
  const instances: InstanceView[] = [];
  for (const w of workers) {
    instances.push({
      instanceId: w.id,
      address: w.instance.address(),
      price: w.type.price,
      instanceType: w.type,
      state: w.state,
      idleBehavior: w.idleBehavior,
      runningContainerUuids: [...w.running.keys(), ...w.starting.keys()].sort(),
      lastContainerUuid: w.lastUUID,
      lastBusy: w.busy,
    });
  }
  for (const c of creating) {
    instances.push({
      instanceId: '',
      address: '',
      price: c.type.price,
      instanceType: c.type,
      state: 'booting',
      idleBehavior: 'run',
      runningContainerUuids: [],
      lastContainerUuid: '',
      lastBusy: 0,
    });
  }
  instances.sort(compareViews);
  const running = new Map<string, number>(exited);
  for (const uuid of onWorkers) running.set(uuid, 0);
  return { instances, running };
}
