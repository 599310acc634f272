import { EventEngine } from '../sim/engine/event-engine.js';
import { StubController } from '../sim/controller/stub-controller.js';
import { requestSpec } from '../sim/controller/stub-fixtures.js';
import { measure, perSecond, type Benchmark, type BenchRow } from './benchmark.js';

/**
 * The stub controller at the design scale: 100,000 queued containers, 10,000 of them
 * locked and running, and the dispatcher's three poll queries against that.
 */
async function stubAtScale(total: number, locked: number): Promise<BenchRow[]> {
  const clock = new EventEngine(0);
  const stub = new StubController({ clock, maxDispatchAttempts: 1000 });
  const submitMs = await measure(() => {
    for (let i = 0; i < total; i++) stub.submitRequest(requestSpec(`r${i}`, 1 + (i % 1000)));
  });
  const queue = () => stub.listContainers({ filters: [['state', '=', 'Queued'], ['priority', '>', '0']], order: ['priority desc'], limit: 1000 });
  const order = await queue();
  let lockMs = 0;
  lockMs = await measure(async () => {
    let n = 0;
    for (const c of stub.containerRows()) {
      if (n >= locked) break;
      await stub.lock(c.uuid);
      stub.crunchRunStarted(c.uuid);
      n++;
    }
  });
  const reps = 50;
  const pollQueueMs = await measure(async () => {
    for (let i = 0; i < reps; i++) await queue();
  });
  const pollDeepMs = await measure(async () => {
    for (let i = 0; i < reps; i++) {
      await stub.listContainers({ filters: [['state', '=', 'Queued'], ['priority', '>', '0']], order: ['priority desc'], limit: 1000, offset: 50_000 });
    }
  });
  const me = stub.dispatcherAuthUuid;
  const pollMineMs = await measure(async () => {
    for (let i = 0; i < reps; i++) {
      let last: string | undefined;
      for (;;) {
        const page = await stub.listContainers({
          filters: last === undefined ? [['locked_by_uuid', '=', me]] : [['locked_by_uuid', '=', me], ['uuid', '>', last]],
          order: ['uuid'],
          limit: 1000,
        });
        if (page.length === 0) break;
        last = page.at(-1)!.uuid;
      }
    }
  });
  const some = order.slice(0, 20).map((c) => c.uuid);
  const pollMissingMs = await measure(async () => {
    for (let i = 0; i < reps; i++) await stub.listContainers({ filters: [['uuid', 'in', some]], order: ['uuid'] });
  });
  const head = (await queue()).slice(0, 100);
  const cycles = 20;
  const lockUnlockMs = await measure(async () => {
    for (let k = 0; k < cycles; k++) {
      for (const c of head) {
        await stub.lock(c.uuid);
        await stub.unlock(c.uuid);
      }
    }
  });
  const scanMs = await measure(async () => {
    for (let i = 0; i < reps; i++) await stub.listContainers({ filters: [['lock_count', '>', 5]], order: ['priority desc'], limit: 1000 });
  });
  if (stub.audit().length > 0) throw new Error('controller benchmark: illegal transitions');
  const label = `${total / 1000}k containers, ${locked / 1000}k running`;
  return [
    { case: `${label}: submit`, figures: { 'wall ms': submitMs, 'submits/s': perSecond(total, submitMs) } },
    { case: `${label}: lock + start`, figures: { 'wall ms': lockMs, 'ops/s': perSecond(locked * 2, lockMs) } },
    { case: `${label}: poll 2 first page (Queued, priority desc, 1000)`, figures: { 'ms/query': pollQueueMs / reps } },
    { case: `${label}: poll 2 at offset 50,000`, figures: { 'ms/query': pollDeepMs / reps } },
    { case: `${label}: poll 1 all pages (locked_by me, uuid keyset)`, figures: { 'ms/poll': pollMineMs / reps } },
    { case: `${label}: poll 3 (uuid in 20)`, figures: { 'ms/query': pollMissingMs / reps } },
    { case: `${label}: lock + unlock at the queue head`, figures: { 'ops/s': perSecond(cycles * head.length * 2, lockUnlockMs) } },
    { case: `${label}: unindexed filter (full scan + sort)`, figures: { 'ms/query': scanMs / reps } },
  ];
}

export const benchmarks: Benchmark[] = [
  {
    name: 'controller-stub',
    description: 'stub controller at 100k containers: submit, lock, and the queue poll queries',
    run: () => stubAtScale(100_000, 10_000),
  },
];
