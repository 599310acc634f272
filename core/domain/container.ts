/**
 * The parts of an Arvados container record the dispatcher reads, parsed at the edge into
 * typed values. Times are milliseconds since the Unix epoch (the Clock's time base).
 * Priorities are exact integers up to about 1e18, hence `bigint` end to end.
 */
export const CONTAINER_STATES = ['Queued', 'Locked', 'Running', 'Complete', 'Cancelled'] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];

export interface GpuRequest {
  /** '' when no GPU is requested. */
  readonly stack: string;
  readonly deviceCount: number;
  readonly driverVersion: string;
  readonly hardwareTarget: readonly string[];
  /** Bytes of VRAM per device. */
  readonly vram: number;
}

/** No GPU requested. */
export const NO_GPU_REQUEST: GpuRequest = Object.freeze({ stack: '', deviceCount: 0, driverVersion: '', hardwareTarget: [], vram: 0 });

export interface RuntimeConstraints {
  readonly vcpus: number;
  readonly ram: number;
  readonly keepCacheRam: number;
  readonly keepCacheDisk: number;
  readonly api: boolean;
  readonly gpu: GpuRequest;
}

export interface SchedulingParameters {
  readonly preemptible: boolean;
  readonly partitions: readonly string[];
  /** Seconds; 0 = no limit. */
  readonly maxRunTime: number;
  readonly supervisor: boolean;
}

export interface Mount {
  readonly kind: string;
  /** Bytes; only meaningful for `tmp` mounts. */
  readonly capacity: number;
}

export interface Container {
  readonly uuid: string;
  readonly state: ContainerState;
  readonly priority: bigint;
  /** UUID of the token that holds the lock, or null. */
  readonly lockedByUuid: string | null;
  readonly runtimeConstraints: RuntimeConstraints;
  readonly schedulingParameters: SchedulingParameters;
  readonly containerImage: string;
  /** Present only when fetched (the queue drops them after choosing a type). */
  readonly mounts?: Readonly<Record<string, Mount>>;
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly lockCount?: number;
  readonly exitCode?: number | null;
  readonly runtimeStatus?: Readonly<Record<string, unknown>>;
}

export function isSupervisor(c: Container): boolean {
  return c.schedulingParameters.supervisor;
}

/** Arvados object UUID: `<5 alnum cluster>-<5 alnum type>-<15 alnum>`. */
export const UUID_PATTERN = /^[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{15}$/;
export const CONTAINER_UUID_PATTERN = /^[a-z0-9]{5}-dz642-[a-z0-9]{15}$/;

export function isContainerUuid(s: string): boolean {
  return CONTAINER_UUID_PATTERN.test(s);
}
