// A WorkerPool for management API tests: serves a fixed list of instance views, records the
// actions asked of it, and throws NotFoundError for unknown instances as the real pool does.
import type { Container } from '../../core/domain/container.js';
import type { InstanceType } from '../../core/domain/instance-type.js';
import { NotFoundError } from '../../core/ports/errors.js';
import type { IdleBehavior, InstanceView, PoolSnapshot, WorkerPool, WorkerState } from '../../core/pool/pool-api.js';

export function mgmtInstanceType(name: string, over: Partial<InstanceType> = {}): InstanceType {
  return {
    name,
    providerType: name.replace(/\.preemptible$/, ''),
    vcpus: 2,
    ram: 8 * 2 ** 30,
    scratch: 32e9,
    includedScratch: 32e9,
    addedScratch: 0,
    price: 0.096,
    preemptible: false,
    gpu: { stack: '', driverVersion: '', hardwareTarget: '', deviceCount: 0, vram: 0 },
    ...over,
  };
}

export function mgmtView(over: Partial<InstanceView> & { instanceId: string }): InstanceView {
  return {
    address: '',
    price: 0.096,
    instanceType: mgmtInstanceType('m5.large'),
    state: 'idle',
    idleBehavior: 'run',
    runningContainerUuids: [],
    lastContainerUuid: '',
    lastBusy: 0,
    ...over,
  };
}

export class FakeMgmtPool implements WorkerPool {
  views: InstanceView[] = [];
  readonly idleBehaviorCalls: { id: string; behavior: IdleBehavior }[] = [];
  readonly killInstanceCalls: { id: string; reason: string }[] = [];
  readonly killContainerCalls: { uuid: string; reason: string }[] = [];
  /** Containers that killContainer finds. */
  readonly known = new Set<string>();
  /** When set, every action throws it (a pool bug, for the 500 path). */
  failWith: Error | null = null;

  snapshot(): PoolSnapshot {
    const counts: Record<WorkerState, number> = { unknown: 0, booting: 0, idle: 0, running: 0, shutdown: 0 };
    for (const v of this.views) if (v.instanceId !== '') counts[v.state]++;
    return {
      instances: this.views,
      running: new Map(),
      workerCounts: counts,
      atQuota: false,
      createBlocked: false,
      atCapacity: () => false,
    };
  }
  whenLoaded(): Promise<void> {
    return Promise.resolve();
  }
  create(_type: InstanceType): boolean {
    return false;
  }
  shutdown(_instanceId: string): boolean {
    return false;
  }
  startContainer(_instanceId: string, _ctr: Container): boolean {
    return false;
  }
  killContainer(uuid: string, reason: string): boolean {
    if (this.failWith !== null) throw this.failWith;
    this.killContainerCalls.push({ uuid, reason });
    return this.known.has(uuid);
  }
  forgetContainer(_uuid: string): void {}
  killInstance(instanceId: string, reason: string): void {
    if (this.failWith !== null) throw this.failWith;
    this.killInstanceCalls.push({ id: instanceId, reason });
    if (!this.has(instanceId)) throw new NotFoundError(`killing instance ${instanceId}: instance not found`);
  }
  setIdleBehavior(instanceId: string, behavior: IdleBehavior): void {
    if (this.failWith !== null) throw this.failWith;
    this.idleBehaviorCalls.push({ id: instanceId, behavior });
    if (!this.has(instanceId)) throw new NotFoundError(`setting idle behavior of ${instanceId}: instance not found`);
    this.views = this.views.map((v) => (v.instanceId === instanceId ? { ...v, idleBehavior: behavior } : v));
  }
  subscribe(_fn: () => void): () => void {
    return () => {};
  }
  start(): void {}
  stop(): void {}

  private has(id: string): boolean {
    return id !== '' && this.views.some((v) => v.instanceId === id);
  }
}
