import { describe, it, expect } from 'vitest';
import { ControllerError } from '../../core/ports/errors.js';
import { EventEngine } from '../engine/event-engine.js';
import { MAX_DISPATCH_ATTEMPTS_MESSAGE, StubController, type StubControllerOptions } from './stub-controller.js';
import { requestSpec } from './stub-fixtures.js';

function setup(opts: Partial<StubControllerOptions> = {}): { clock: EventEngine; stub: StubController } {
  const clock = new EventEngine(1_000_000);
  return { clock, stub: new StubController({ clock, priorityMode: 'as-given', ...opts }) };
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ControllerError) return e.status;
    throw e;
  }
  return 200;
}

describe('StubController rules', () => {
  it('creates Queued containers with deterministic uuids in creation order', () => {
    const { stub } = setup({ clusterId: 'abcde' });
    const a = stub.submitRequest(requestSpec('r1'));
    const b = stub.submitRequest(requestSpec('r2'));
    expect(a.uuid).toBe('abcde-dz642-000000000000000');
    expect(b.uuid).toBe('abcde-dz642-000000000000001');
    expect(a.state).toBe('Queued');
    expect(a.createdAt).toBe(1_000_000);
  });

  it('derives container priority as Rails does in arvados mode', () => {
    const clock = new EventEngine(5_000);
    const stub = new StubController({ clock });
    const c = stub.submitRequest(requestSpec('r', 500n));
    expect(c.priority).toBe(500n * (1n << 50n) - 5_000n);
    expect(() => stub.submitRequest(requestSpec('x', 1001n))).toThrow(/out of range/);
  });

  it('locks only Queued containers with priority > 0, counting locks', async () => {
    const { stub } = setup();
    const c = stub.submitRequest(requestSpec('r', 3n));
    const held = stub.submitRequest(requestSpec('h', 0n));
    expect(await status(stub.lock(held.uuid))).toBe(422);
    const locked = await stub.lock(c.uuid);
    expect(locked.state).toBe('Locked');
    expect(locked.lockedByUuid).toBe(stub.dispatcherAuthUuid);
    expect(locked.lockCount).toBe(1);
    await expect(stub.lock(c.uuid)).rejects.toMatchObject({ status: 422, message: expect.stringContaining('cannot lock when Locked') });
    expect(await status(stub.lock('zzzzz-dz642-zzzzzzzzzzzzzzz'))).toBe(404);
  });

  it('unlocks only Locked containers, and only for the locker', async () => {
    const { stub } = setup();
    const c = stub.submitRequest(requestSpec('r'));
    expect(await status(stub.unlock(c.uuid))).toBe(422);
    await stub.lock(c.uuid);
    const other = stub.session('zzzzz-gj3su-otherdispatcher');
    await expect(other.unlock(c.uuid)).rejects.toMatchObject({ status: 403, message: expect.stringContaining('locked by a different token') });
    const u = await stub.unlock(c.uuid);
    expect(u.state).toBe('Queued');
    expect(u.lockedByUuid).toBeNull();
    expect(u.lockCount).toBe(1);
    expect(stub.rejected().total).toBe(2);
  });

  it('cancels on unlock once lock_count reaches MaxDispatchAttempts, then retries the request', async () => {
    const { stub } = setup({ maxDispatchAttempts: 3, maxRetryAttempts: 2 });
    const c = stub.submitRequest(requestSpec('r'));
    for (let i = 0; i < 2; i++) {
      await stub.lock(c.uuid);
      expect((await stub.unlock(c.uuid)).state).toBe('Queued');
    }
    await stub.lock(c.uuid);
    const u = await stub.unlock(c.uuid);
    expect(u.state).toBe('Cancelled');
    expect(u.runtimeStatus).toEqual({ error: MAX_DISPATCH_ATTEMPTS_MESSAGE(3) });
    expect(u.runtimeStatus['error']).toBe("Failed to start container.  Cancelled after exceeding 'Containers.MaxDispatchAttempts' (lock_count=3)");
    const conts = stub.containersOf('r');
    expect(conts).toHaveLength(2);
    expect(conts[1]!.state).toBe('Queued');
    expect(conts[1]!.lockCount).toBe(0);
    expect(conts[1]!.uuid).not.toBe(c.uuid);
    expect(stub.outcomeCounts()).toMatchObject({ total: 1, unfinished: 1, retried: 1, maxLockCount: 3 });
  });

  it('replaces cancelled containers while fewer than container_count_max were made', async () => {
    const { stub } = setup();
    stub.submitRequest(requestSpec('r', 1n, { containerCountMax: 3 }));
    for (let i = 0; i < 3; i++) {
      const cur = stub.containersOf('r').at(-1)!;
      await stub.lock(cur.uuid);
      await stub.update(cur.uuid, { state: 'Cancelled' });
    }
    const conts = stub.containersOf('r');
    expect(conts).toHaveLength(3);
    expect(conts.every((c) => c.state === 'Cancelled')).toBe(true);
    expect(stub.requestOutcomes()[0]).toMatchObject({ outcome: 'cancelled', containers: 3, retried: 2 });
    expect(stub.outcomeCounts()).toMatchObject({ cancelled: 1, retried: 2 });
  });

  it('runs the crunch-run side: start, finish, fail before start', async () => {
    const { stub, clock } = setup();
    const ok = stub.submitRequest(requestSpec('ok'));
    const bad = stub.submitRequest(requestSpec('bad'));
    const early = stub.submitRequest(requestSpec('early'));
    expect(() => stub.crunchRunStarted(ok.uuid)).toThrow(ControllerError);
    for (const c of [ok, bad, early]) await stub.lock(c.uuid);
    clock.setTimer(0, () => undefined);
    expect(stub.crunchRunStarted(ok.uuid).state).toBe('Running');
    stub.crunchRunStarted(bad.uuid);
    expect(stub.crunchRunFinished(ok.uuid, 0).state).toBe('Complete');
    expect(stub.crunchRunFinished(bad.uuid, 2).exitCode).toBe(2);
    const requeued = stub.crunchRunFailedBeforeStart(early.uuid);
    expect(requeued).toMatchObject({ state: 'Queued', lockedByUuid: null, lockCount: 1 });
    expect(() => stub.crunchRunFinished(early.uuid, 0)).toThrow(/cannot change state from Queued to Complete/);
    expect(stub.outcomeCounts()).toMatchObject({ total: 3, complete: 1, failed: 1, unfinished: 1, retried: 0 });
    const row = stub.containerRows().find((r) => r.uuid === ok.uuid)!;
    expect(row).toMatchObject({ request: 'ok', state: 'Complete', exitCode: 0, started: 1_000_000, finished: 1_000_000 });
  });

  it('refuses crunch-run start for a container locked by another token', async () => {
    const { stub } = setup();
    const c = stub.submitRequest(requestSpec('r'));
    await stub.session('zzzzz-gj3su-someoneelse0000').lock(c.uuid);
    expect(() => stub.crunchRunStarted(c.uuid)).toThrow(expect.objectContaining({ status: 403 }));
  });

  it('applies update rules for state and runtime_status', async () => {
    const { stub } = setup();
    const c = stub.submitRequest(requestSpec('r'));
    expect(await status(stub.update(c.uuid, { runtimeStatus: { error: 'x' } }))).toBe(422);
    expect(await status(stub.update(c.uuid, { state: 'Running' }))).toBe(422);
    expect(await status(stub.update(c.uuid, { state: 'Locked' }))).toBe(422);
    await stub.lock(c.uuid);
    const other = stub.session('zzzzz-gj3su-someoneelse0000');
    expect(await status(other.update(c.uuid, { runtimeStatus: { error: 'x' } }))).toBe(422);
    const withErr = await stub.update(c.uuid, { runtimeStatus: { error: 'constraints not satisfiable' } });
    expect(withErr.runtimeStatus).toEqual({ error: 'constraints not satisfiable' });
    const cancelled = await stub.update(c.uuid, { state: 'Cancelled' });
    expect(cancelled.state).toBe('Cancelled');
    expect(cancelled.lockedByUuid).toBeNull();
    // Same state again is no change; anything else on a final record is refused.
    expect((await stub.update(c.uuid, { state: 'Cancelled' })).state).toBe('Cancelled');
    expect(await status(stub.update(c.uuid, { state: 'Queued' }))).toBe(422);
    expect(await status(stub.update(c.uuid, { runtimeStatus: {} }))).toBe(422);
    expect(stub.audit()).toEqual([]);
  });

  it('lets another admin token cancel a Locked container but not run it', async () => {
    const { stub } = setup();
    const c = stub.submitRequest(requestSpec('r', 1n, { containerCountMax: 1 }));
    await stub.lock(c.uuid);
    const other = stub.session('zzzzz-gj3su-someoneelse0000');
    expect(await status(other.update(c.uuid, { state: 'Queued' }))).toBe(403);
    expect((await other.update(c.uuid, { state: 'Cancelled' })).state).toBe('Cancelled');
    expect(stub.containersOf('r')).toHaveLength(1);
  });

  it('cancelByUser cancels a Queued container and never retries the request', async () => {
    const { stub } = setup();
    const q = stub.submitRequest(requestSpec('q'));
    const l = stub.submitRequest(requestSpec('l'));
    await stub.lock(l.uuid);
    expect(stub.cancelByUser(q.uuid).state).toBe('Cancelled');
    const lc = stub.cancelByUser(l.uuid);
    expect(lc).toMatchObject({ state: 'Locked', priority: 0n });
    // The dispatcher unlocks a priority-0 container; with no request wanting it, it is cancelled.
    expect((await stub.unlock(l.uuid)).state).toBe('Cancelled');
    expect(stub.containerCount).toBe(2);
    expect(stub.outcomeCounts()).toMatchObject({ cancelled: 2, retried: 0 });
  });

  it('setPriority changes the current container priority', () => {
    const { stub } = setup();
    const c = stub.submitRequest(requestSpec('r', 5n));
    expect(stub.setPriority(c.uuid, 999999999999999999n).priority).toBe(999999999999999999n);
  });

  it('answers 503 during an outage window and records last503', async () => {
    const { stub, clock } = setup();
    const c = stub.submitRequest(requestSpec('r'));
    stub.setUnavailable(1_000_010, 1_000_020);
    expect(stub.last503()).toBe(0);
    clock.setTimer(15, () => undefined);
    await clock.run();
    expect(clock.now()).toBe(1_000_015);
    expect(await status(stub.lock(c.uuid))).toBe(503);
    expect(await status(stub.listContainers({ filters: [] }))).toBe(503);
    expect(stub.last503()).toBe(1_000_015);
    expect(stub.snapshot(c.uuid)!.state).toBe('Queued');
    clock.setTimer(5, () => undefined);
    await clock.run();
    expect((await stub.lock(c.uuid)).state).toBe('Locked');
  });

  it('revokeAccess hides a container from one token only', async () => {
    const { stub } = setup();
    const c = stub.submitRequest(requestSpec('r'));
    const kept = stub.submitRequest(requestSpec('k'));
    await stub.lock(c.uuid);
    stub.revokeAccess(stub.dispatcherAuthUuid, c.uuid);
    const listed = await stub.listContainers({ filters: [['uuid', 'in', [c.uuid, kept.uuid]]] });
    expect(listed.map((x) => x.uuid)).toEqual([kept.uuid]);
    expect(await status(stub.getContainer(c.uuid))).toBe(404);
    expect(await status(stub.unlock(c.uuid))).toBe(404);
    const other = stub.session('zzzzz-gj3su-otherdispatcher');
    expect((await other.getContainer(c.uuid)).state).toBe('Locked');
    // The world (crunch-run) still reaches it.
    expect(stub.crunchRunStarted(c.uuid).state).toBe('Running');
  });

  it('injects one fault into the next matching call', async () => {
    const { stub } = setup();
    stub.submitRequest(requestSpec('r'));
    stub.injectFault('list', new ControllerError('listing containers: boom', 500));
    expect(await status(stub.listContainers({ filters: [] }))).toBe(500);
    expect(await stub.listContainers({ filters: [] })).toHaveLength(1);
  });

  it('applies latency on the virtual clock', async () => {
    const { stub, clock } = setup({ latencyMs: 50 });
    const c = stub.submitRequest(requestSpec('r'));
    let done = false;
    const p = stub.lock(c.uuid).then(() => (done = true));
    await clock.run();
    await p;
    expect(done).toBe(true);
    expect(clock.now()).toBe(1_000_050);
  });
});

describe('StubController queries', () => {
  it('filters, orders and pages like the dispatcher queries', async () => {
    const { stub } = setup();
    const prios = [5n, 9n, 0n, 9n, 1n, 7n];
    const cs = prios.map((p, i) => stub.submitRequest(requestSpec(`r${i}`, p)));
    await stub.lock(cs[5]!.uuid);
    const queued = await stub.listContainers({ filters: [['state', '=', 'Queued'], ['priority', '>', '0']], order: ['priority desc'], limit: 2 });
    expect(queued.map((c) => c.priority)).toEqual([9n, 9n]);
    expect(queued.map((c) => c.uuid)).toEqual([cs[1]!.uuid, cs[3]!.uuid]);
    const page2 = await stub.listContainers({ filters: [['state', '=', 'Queued'], ['priority', '>', 0n]], order: ['priority desc'], limit: 2, offset: 2 });
    expect(page2.map((c) => c.priority)).toEqual([5n, 1n]);
    const within = await stub.listContainers({ filters: [['state', '=', 'Queued'], ['priority', '>', 4]], order: ['priority desc'], offset: 1 });
    expect(within.map((c) => c.priority)).toEqual([9n, 5n]);
    const extra = await stub.listContainers({ filters: [['state', '=', 'Queued'], ['priority', '>=', 1], ['uuid', '!=', cs[1]!.uuid]], order: ['priority desc'], offset: 1 });
    expect(extra.map((c) => c.priority)).toEqual([5n, 1n]);
    const mine = await stub.listContainers({ filters: [['locked_by_uuid', '=', stub.dispatcherAuthUuid]], order: ['uuid'], limit: 1000 });
    expect(mine.map((c) => c.uuid)).toEqual([cs[5]!.uuid]);
    const after = await stub.listContainers({ filters: [['locked_by_uuid', '=', stub.dispatcherAuthUuid], ['uuid', '>', cs[5]!.uuid]], order: ['uuid'] });
    expect(after).toEqual([]);
    const some = await stub.listContainers({ filters: [['uuid', 'in', [cs[4]!.uuid, cs[0]!.uuid, 'zzzzz-dz642-nonexistent00000']]], order: ['uuid'] });
    expect(some.map((c) => c.uuid)).toEqual([cs[0]!.uuid, cs[4]!.uuid]);
    const big = await stub.listContainers({ filters: [['priority', '>=', 7]], order: ['priority', 'uuid desc'] });
    expect(big.map((c) => c.uuid)).toEqual([cs[5]!.uuid, cs[3]!.uuid, cs[1]!.uuid]);
    const notQueued = await stub.listContainers({ filters: [['state', '!=', 'Queued']] });
    expect(notQueued).toHaveLength(1);
    const nullLock = await stub.listContainers({ filters: [['locked_by_uuid', '=', null]], order: ['created_at'] });
    expect(nullLock).toHaveLength(5);
    expect(nullLock[0]!.mounts).toBeUndefined();
    const withMounts = await stub.getContainer(cs[0]!.uuid, ['mounts']);
    expect(withMounts.mounts?.['/tmp']?.capacity).toBe(1 << 30);
  });

  it('rejects malformed filters and orders with 422', async () => {
    const { stub } = setup();
    expect(await status(stub.listContainers({ filters: [['bogus', '=', 1]] }))).toBe(422);
    expect(await status(stub.listContainers({ filters: [['priority', '>', 'x']] }))).toBe(422);
    expect(await status(stub.listContainers({ filters: [['uuid', 'in', 'x']] }))).toBe(422);
    expect(await status(stub.listContainers({ filters: [], order: ['nope desc'] }))).toBe(422);
    expect(await status(stub.listContainers({ filters: [], limit: -1 }))).toBe(422);
  });

  it('caps limit at maxItemsPerResponse and defaults it to 100', async () => {
    const { stub } = setup({ maxItemsPerResponse: 150 });
    for (let i = 0; i < 200; i++) stub.submitRequest(requestSpec(`r${i}`));
    expect(await stub.listContainers({ filters: [] })).toHaveLength(100);
    expect(await stub.listContainers({ filters: [], limit: 1000 })).toHaveLength(150);
  });
});
