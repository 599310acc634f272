// A WorkerPool for scheduler tests, after the reference's stubPool (run_queue_test.go):
// AtQuota when workers >= quota; AtCapacity from a per-ProviderType supply; Create records
// every attempt and fails once `canCreate` is used up; StartContainer records every call and
// succeeds only on an idle/running worker whose behaviour is run; Shutdown counts calls and
// (like the stub) refuses unless `shutdownWorks`.
import type { Container } from '../../core/domain/container.js';
import type { InstanceType } from '../../core/domain/instance-type.js';
import { NotFoundError } from '../../core/ports/errors.js';
import {
  WORKER_STATES,
  type IdleBehavior,
  type InstanceView,
  type PoolSnapshot,
  type WorkerPool,
  type WorkerState,
} from '../../core/pool/pool-api.js';

export interface FakeWorker {
  id: string;
  type: InstanceType;
  state: WorkerState;
  idleBehavior: IdleBehavior;
  /** Containers running or starting on it. */
  running: string[];
  lastBusy: number;
}

export class FakePool implements WorkerPool {
  readonly workers: FakeWorker[] = [];
  /** uuid → exit time (0 = running or starting). */
  readonly running = new Map<string, number>();
  quota = Infinity;
  /** ProviderType → how many may exist; absent = unlimited. */
  readonly capacity = new Map<string, number>();
  canCreate = Infinity;
  createBlocked = false;
  shutdownWorks = false;
  readonly creates: InstanceType[] = [];
  readonly starts: string[] = [];
  readonly kills: string[] = [];
  readonly shutdowns: string[] = [];
  readonly forgotten: string[] = [];
  /** Earlier attempts still alive but not in `running` (killContainer returns true once). */
  readonly lingering = new Set<string>();
  private readonly subscribers = new Set<() => void>();
  private nextId = 1;

  /** Add a worker directly (test set-up). */
  addWorker(type: InstanceType, state: WorkerState, running: readonly string[] = [], idleBehavior: IdleBehavior = 'run'): FakeWorker {
    const w: FakeWorker = { id: this.newId(), type, state, idleBehavior, running: [...running], lastBusy: 0 };
    for (const uuid of running) this.running.set(uuid, 0);
    this.workers.push(w);
    return w;
  }

  bootAll(): void {
    for (const w of this.workers) if (w.state === 'booting') w.state = 'idle';
    this.notify();
  }

  /** A container's crunch-run exits at `at` (exited placeholder stays until forgotten). */
  exit(uuid: string, at: number): void {
    this.running.set(uuid, at);
    for (const w of this.workers) {
      w.running = w.running.filter((u) => u !== uuid);
      if (w.state === 'running' && w.running.length === 0) w.state = 'idle';
    }
  }

  removeWorker(id: string): void {
    const i = this.workers.findIndex((w) => w.id === id);
    if (i < 0) return;
    for (const uuid of this.workers[i]!.running) this.running.delete(uuid);
    this.workers.splice(i, 1);
  }

  snapshot(): PoolSnapshot {
    const counts = Object.fromEntries(WORKER_STATES.map((s) => [s, 0])) as Record<WorkerState, number>;
    for (const w of this.workers) counts[w.state]++;
    const instances: InstanceView[] = this.workers.map((w) => ({
      instanceId: w.id,
      address: '',
      price: w.type.price,
      instanceType: w.type,
      state: w.state,
      idleBehavior: w.idleBehavior,
      runningContainerUuids: [...w.running].sort(),
      lastContainerUuid: '',
      lastBusy: w.lastBusy,
    }));
    const atCapacity = (t: InstanceType) => this.atCapacity(t);
    return {
      instances,
      running: new Map(this.running),
      workerCounts: counts,
      atQuota: this.workers.length >= this.quota,
      createBlocked: this.createBlocked,
      atCapacity,
    };
  }

  atCapacity(t: InstanceType): boolean {
    const supply = this.capacity.get(t.providerType);
    if (supply === undefined) return false;
    return supply - this.workers.filter((w) => w.type.providerType === t.providerType).length < 1;
  }

  whenLoaded(): Promise<void> {
    return Promise.resolve();
  }

  create(type: InstanceType): boolean {
    this.creates.push(type);
    if (this.canCreate < 1 || this.createBlocked || this.workers.length >= this.quota) return false;
    this.canCreate--;
    this.addWorker(type, 'booting');
    return true;
  }

  shutdown(instanceId: string): boolean {
    this.shutdowns.push(instanceId);
    if (!this.shutdownWorks) return false;
    const w = this.workers.find((x) => x.id === instanceId);
    if (w === undefined || w.idleBehavior === 'hold' || (w.state !== 'idle' && w.state !== 'booting')) return false;
    w.state = 'shutdown';
    return true;
  }

  startContainer(instanceId: string, ctr: Container): boolean {
    this.starts.push(ctr.uuid);
    const w = this.workers.find((x) => x.id === instanceId);
    if (w === undefined || (w.state !== 'idle' && w.state !== 'running') || w.idleBehavior !== 'run') return false;
    w.running.push(ctr.uuid);
    w.state = 'running';
    this.running.set(ctr.uuid, 0);
    return true;
  }

  /** True when the container is running with no exit time; removes its entry in every case. */
  killContainer(uuid: string, _reason: string): boolean {
    this.kills.push(uuid);
    const t = this.running.get(uuid);
    this.running.delete(uuid);
    if (this.lingering.delete(uuid)) return true;
    for (const w of this.workers) w.running = w.running.filter((u) => u !== uuid);
    return t === 0;
  }

  forgetContainer(uuid: string): void {
    this.forgotten.push(uuid);
    this.running.delete(uuid);
  }

  killInstance(instanceId: string, _reason: string): void {
    if (!this.workers.some((w) => w.id === instanceId)) throw new NotFoundError(`killing instance ${instanceId}: not found`);
    this.removeWorker(instanceId);
  }

  setIdleBehavior(instanceId: string, behavior: IdleBehavior): void {
    const w = this.workers.find((x) => x.id === instanceId);
    if (w === undefined) throw new NotFoundError(`setting idle behavior of ${instanceId}: not found`);
    w.idleBehavior = behavior;
  }

  subscribe(fn: () => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Tell subscribers something changed (synchronously). */
  notify(): void {
    for (const fn of [...this.subscribers]) fn();
  }

  start(): void {}
  stop(): void {}

  private newId(): string {
    return `i-${String(this.nextId++).padStart(7, '0')}`;
  }
}
