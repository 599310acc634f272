import type { Container, ContainerState, Mount, RuntimeConstraints, SchedulingParameters } from '../../core/domain/container.js';
import type { QueryableRecord } from './query.js';

/** What the simulator submits: one Arvados container request. */
export interface ContainerRequestSpec {
  /** Unique among requests; appears as `request` in containers.csv. */
  readonly id: string;
  /**
   * With priorityMode 'arvados' (the default) the request's priority, 0..1000, from which
   * the container priority is derived as Rails does; with 'as-given' the container
   * priority itself (any non-negative int64).
   */
  readonly priority: bigint;
  readonly runtimeConstraints: RuntimeConstraints;
  readonly schedulingParameters: SchedulingParameters;
  readonly containerImage: string;
  readonly mounts?: Readonly<Record<string, Mount>>;
  /** Containers Arvados may create for this request, first attempt included. */
  readonly containerCountMax?: number;
}

/**
 * Everything the stub knows about one container, as a Container (so it can be returned
 * from the port) plus the fields the controller keeps for crunch-run and reports.
 */
export interface ContainerSnapshot extends Container {
  readonly requestId: string;
  readonly mounts: Readonly<Record<string, Mount>>;
  readonly lockCount: number;
  readonly exitCode: number | null;
  readonly runtimeStatus: Readonly<Record<string, unknown>>;
  /** ms; null until Running. */
  readonly startedAt: number | null;
  /** ms; null until Complete or Cancelled. */
  readonly finishedAt: number | null;
  readonly modifiedAt: number;
}

/** @internal the stub's mutable row; never handed out (views are). */
export interface Rec extends QueryableRecord {
  readonly uuid: string;
  readonly seq: number;
  readonly req: Req;
  readonly createdAt: number;
  state: ContainerState;
  priority: bigint;
  lockedByUuid: string | null;
  lockCount: number;
  exitCode: number | null;
  runtimeStatus: Readonly<Record<string, unknown>>;
  startedAt: number | null;
  finishedAt: number | null;
  modifiedAt: number;
  snapshot: ContainerSnapshot | undefined;
  view: Container | undefined;
}

/** @internal */
export interface Req {
  readonly spec: ContainerRequestSpec;
  readonly createdAt: number;
  readonly containerCountMax: number;
  priority: bigint;
  containers: Rec[];
  /** No container will be made for it any more (last one Complete, out of retries, or cancelled by the user). */
  finalized: boolean;
}

export function snapshotOf(r: Rec): ContainerSnapshot {
  if (r.snapshot !== undefined) return r.snapshot;
  const s = r.req.spec;
  const snap: ContainerSnapshot = Object.freeze({
    uuid: r.uuid,
    requestId: s.id,
    state: r.state,
    priority: r.priority,
    lockedByUuid: r.lockedByUuid,
    runtimeConstraints: s.runtimeConstraints,
    schedulingParameters: s.schedulingParameters,
    containerImage: s.containerImage,
    mounts: s.mounts ?? {},
    createdAt: r.createdAt,
    modifiedAt: r.modifiedAt,
    lockCount: r.lockCount,
    exitCode: r.exitCode,
    runtimeStatus: r.runtimeStatus,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  });
  r.snapshot = snap;
  return snap;
}

/** The port's view: no mounts (the queue fetches them only on first sight). */
export function viewOf(r: Rec): Container {
  if (r.view !== undefined) return r.view;
  const s = r.req.spec;
  const v: Container = Object.freeze({
    uuid: r.uuid,
    state: r.state,
    priority: r.priority,
    lockedByUuid: r.lockedByUuid,
    runtimeConstraints: s.runtimeConstraints,
    schedulingParameters: s.schedulingParameters,
    containerImage: s.containerImage,
    createdAt: r.createdAt,
    lockCount: r.lockCount,
    exitCode: r.exitCode,
    runtimeStatus: r.runtimeStatus,
  });
  r.view = v;
  return v;
}
