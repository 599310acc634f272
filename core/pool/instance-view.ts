import type { InstanceType } from '../domain/instance-type.js';
import type { InstanceView } from './pool-api.js';

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
