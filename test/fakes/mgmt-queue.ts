// A QueueView for management API tests: a settable list of entries, counting reads so that
// tests can see the 1 s snapshot cache at work.
import type { Container } from '../../core/domain/container.js';
import type { QueueView, QueueViewEntry } from '../../prod/management/queue-view.js';
import { mgmtInstanceType } from './mgmt-pool.js';

export function mgmtContainer(uuid: string, over: Partial<Container> = {}): Container {
  return {
    uuid,
    state: 'Queued',
    priority: 1n,
    lockedByUuid: null,
    runtimeConstraints: {
      vcpus: 1,
      ram: 2 ** 30,
      keepCacheRam: 0,
      keepCacheDisk: 0,
      api: false,
      gpu: { stack: '', deviceCount: 0, driverVersion: '', hardwareTarget: [], vram: 0 },
    },
    schedulingParameters: { preemptible: false, partitions: [], maxRunTime: 0, supervisor: false },
    containerImage: 'd41d8cd98f00b204e9800998ecf8427e+0',
    createdAt: Date.UTC(2026, 0, 1, 0, 0, 0, 0),
    ...over,
  };
}

export function mgmtEntry(uuid: string, over: Partial<QueueViewEntry> = {}): QueueViewEntry {
  return {
    container: mgmtContainer(uuid),
    resources: { vcpus: 1, ram: 1127428915, scratch: 0, gpus: 0, gpuVram: 0 },
    instanceTypes: [mgmtInstanceType('m5.large')],
    firstSeenAt: Date.UTC(2026, 0, 1, 0, 0, 5, 250),
    schedulingStatus: 'Waiting in queue.',
    ...over,
  };
}

export class FakeQueueView implements QueueView {
  entriesList: QueueViewEntry[] = [];
  reads = 0;
  entries(): readonly QueueViewEntry[] {
    this.reads++;
    return this.entriesList;
  }
}
