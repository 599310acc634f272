// The management API's JSON bodies with the reference's key names: InstanceView (snake_case
// JSON tags) and QueueEnt, whose `instance_resources` and `instance_types` have no JSON tags
// in Go and so carry the Go field names.
import { containerToApi } from '../../core/domain/container-record.js';
import { instanceTypeToApi, type InstanceType } from '../../core/domain/instance-type.js';
import type { Resources } from '../../core/domain/resources.js';
import { instanceViewJson, type InstanceViewJson } from '../../core/pool/instance-view.js';
import type { InstanceView } from '../../core/pool/pool-api.js';
import type { QueueViewEntry } from './queue-view.js';

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * ms since the epoch as Go's time.Time marshals to JSON (RFC 3339 with the fraction's
 * trailing zeros dropped), in UTC; 0 is Go's zero time.
 */
export function goTime(ms: number): string {
  if (ms === 0) return GO_ZERO_TIME;
  const iso = new Date(ms).toISOString(); // 2024-05-01T12:00:00.120Z
  return iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac === '' ? 'Z' : `.${frac}Z`));
}

/** One item of `GET /arvados/v1/dispatch/instances`. */
export function instanceJson(v: InstanceView): InstanceViewJson {
  return { ...instanceViewJson(v), last_busy: goTime(v.lastBusy) };
}

export interface InstanceResourcesJson {
  readonly VCPUs: number;
  readonly RAM: number;
  readonly Scratch: number;
  readonly GPUs: number;
  readonly GPUVRAM: number;
}

export function instanceResourcesJson(r: Resources): InstanceResourcesJson {
  return { VCPUs: r.vcpus, RAM: r.ram, Scratch: r.scratch, GPUs: r.gpus, GPUVRAM: r.gpuVram };
}

/** An InstanceType as Go marshals it: field names as keys, `Name` and `Scratch` left out (json:"-"). */
export function instanceTypeJson(t: InstanceType): Record<string, unknown> {
  return instanceTypeToApi(t);
}

/**
 * One QueueEnt. `container.priority` stays a bigint: write the result with stringifyJson
 * (core/domain/json.ts) so that priorities above 2^53 come out exact.
 */
export function queueEntJson(e: QueueViewEntry): Record<string, unknown> {
  return {
    container: containerToApi(e.container),
    instance_resources: instanceResourcesJson(e.resources),
    instance_types: e.instanceTypes.map(instanceTypeJson),
    first_seen_at: goTime(e.firstSeenAt),
    scheduling_status: e.schedulingStatus,
  };
}
