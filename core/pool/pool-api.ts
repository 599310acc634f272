import type { Container } from '../domain/container.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { InstanceViewJson } from './instance-view.js';

/** Worker states, as the reference names them (lower case here, capitalised in the API). */
export const WORKER_STATES = ['unknown', 'booting', 'idle', 'running', 'shutdown'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

export const IDLE_BEHAVIORS = ['run', 'hold', 'drain'] as const;
export type IdleBehavior = (typeof IDLE_BEHAVIORS)[number];

/**
 * One worker (or a pending create, with `instanceId === ''`) as the scheduler and the
 * management API see it.
 */
export interface InstanceView {
  /** Cloud instance id; '' for a create still in flight. */
  readonly instanceId: string;
  readonly address: string;
  readonly price: number;
  readonly instanceType: InstanceType;
  readonly state: WorkerState;
  readonly idleBehavior: IdleBehavior;
  /** Containers running or starting on it, sorted. */
  readonly runningContainerUuids: readonly string[];
  readonly lastContainerUuid: string;
  /** ms since the epoch; 0 = never. */
  readonly lastBusy: number;
}

/**
 * Everything the mapper needs from the pool, captured at one instant so that mapping is a
 * pure function of (queue snapshot, pool snapshot, config, now).
 */
export interface PoolSnapshot {
  /** Workers in every state, plus pending creates (instanceId ''). */
  readonly instances: readonly InstanceView[];
  /**
   * Containers the pool knows of: uuid → exit time (ms). 0 = running or starting;
   * non-zero = exited, placeholder not yet forgotten.
   */
  readonly running: ReadonlyMap<string, number>;
  /** Real workers per state (pending creates excluded). */
  readonly workerCounts: Readonly<Record<WorkerState, number>>;
  /** Workers plus pending creates ≥ MaxInstances, or a quota error is in force. */
  readonly atQuota: boolean;
  /** Create would be refused right now (create throttle, rate limit, concurrency limit). */
  readonly createBlocked: boolean;
  /** Whether creating `type` is blocked by a capacity error (type, quota group or all). */
  atCapacity(type: InstanceType): boolean;
}

/**
 * The worker pool as the scheduler and the management API use it (core/pool/pool.ts).
 * Methods that act return at once; the cloud and SSH work happens in the background and
 * its results arrive as notifications.
 */
export interface WorkerPool {
  snapshot(): PoolSnapshot;
  /** Resolves once the first cloud listing has loaded (workers known, states unknown). */
  whenLoaded(): Promise<void>;
  /** Start creating an instance of `type`; false when refused (at quota, throttled). */
  create(type: InstanceType): boolean;
  /** Shut down a booting or idle worker not on hold; false when refused. */
  shutdown(instanceId: string): boolean;
  /** Start `ctr` on an idle/running worker whose behaviour is run; false when refused. */
  startContainer(instanceId: string, ctr: Container): boolean;
  /** Begin killing `uuid` wherever it runs; false when no runner knows it. */
  killContainer(uuid: string, reason: string): boolean;
  /** Drop the exited placeholder of `uuid`. */
  forgetContainer(uuid: string): void;
  /** Destroy the instance now, whatever its state. Throws NotFoundError when unknown. */
  killInstance(instanceId: string, reason: string): void;
  /** Throws NotFoundError when unknown. */
  setIdleBehavior(instanceId: string, behavior: IdleBehavior): void;
  /** Calls `fn` (asynchronously, coalesced) after any change; returns an unsubscribe function. */
  subscribe(fn: () => void): () => void;
  start(): void;
  /** Stop background loops; leaves VMs and containers as they are. */
  stop(): void;
}

/**
 * The pool as the management API uses it, beyond what the scheduler needs
 * (core/pool/pool.ts implements it).
 */
export interface ManagedWorkerPool extends WorkerPool {
  /**
   * Every worker and pending create as `GET /arvados/v1/dispatch/instances` items, with
   * Arvados' InstanceView JSON field names, sorted by instance id then type name.
   */
  view(): InstanceViewJson[];
}
