import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ControllerError } from '../../core/ports/errors.js';
import { EventEngine } from '../engine/event-engine.js';
import type { ContainerSnapshot } from './records.js';
import { StubController } from './stub-controller.js';
import { requestSpec } from './stub-fixtures.js';

const OTHER = 'zzzzz-gj3su-0therdispatcher';

type Cmd =
  | { k: 'submit'; prio: number; countMax: number }
  | { k: 'lock' | 'unlock' | 'cancel' | 'setError'; i: number; other: boolean }
  | { k: 'start' | 'failBeforeStart' | 'crunchCancel' | 'cancelByUser'; i: number }
  | { k: 'finish'; i: number; code: number }
  | { k: 'setPriority'; i: number; prio: number }
  | { k: 'advance'; ms: number }
  | { k: 'outage'; ms: number };

// Small indexes, so that calls land on the same few containers and reach deep states.
const idx = fc.nat(6);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('submit' as const), prio: fc.nat(3), countMax: fc.integer({ min: 1, max: 3 }) }), weight: 6 },
  { arbitrary: fc.record({ k: fc.constantFrom('lock' as const, 'unlock' as const, 'cancel' as const, 'setError' as const), i: idx, other: fc.boolean() }), weight: 8 },
  { arbitrary: fc.record({ k: fc.constantFrom('start' as const, 'failBeforeStart' as const, 'crunchCancel' as const, 'cancelByUser' as const), i: idx }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('finish' as const), i: idx, code: fc.nat(2) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('setPriority' as const), i: idx, prio: fc.nat(3) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 5000 }) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('outage' as const), ms: fc.integer({ min: 1, max: 1000 }) }), weight: 1 },
);

async function apply(stub: StubController, clock: EventEngine, c: Cmd, uuids: string[], n: number): Promise<void> {
  const u = (i: number): string => uuids[i % uuids.length]!;
  const as = (other: boolean) => (other ? stub.session(OTHER) : stub);
  switch (c.k) {
    case 'submit':
      uuids.push(stub.submitRequest(requestSpec(`r${n}`, c.prio, { containerCountMax: c.countMax })).uuid);
      return;
    case 'advance':
      clock.setTimer(c.ms, () => undefined);
      await clock.run();
      return;
    case 'outage':
      stub.setUnavailable(clock.now(), clock.now() + c.ms);
      return;
  }
  if (uuids.length === 0) return;
  const uuid = u(c.i);
  switch (c.k) {
    case 'lock':
      await as(c.other).lock(uuid);
      return;
    case 'unlock':
      await as(c.other).unlock(uuid);
      return;
    case 'cancel':
      await as(c.other).update(uuid, { state: 'Cancelled' });
      return;
    case 'setError':
      await as(c.other).update(uuid, { runtimeStatus: { error: 'x' } });
      return;
    case 'start':
      stub.crunchRunStarted(uuid);
      return;
    case 'failBeforeStart':
      stub.crunchRunFailedBeforeStart(uuid);
      return;
    case 'crunchCancel':
      stub.crunchRunCancelled(uuid);
      return;
    case 'cancelByUser':
      stub.cancelByUser(uuid);
      return;
    case 'finish':
      stub.crunchRunFinished(uuid, c.code);
      return;
    case 'setPriority':
      stub.setPriority(uuid, BigInt(c.prio));
      return;
  }
}

function all(stub: StubController): ContainerSnapshot[] {
  return stub.containerRows().map((r) => stub.snapshot(r.uuid)!);
}

async function checkInvariants(stub: StubController, uuids: readonly string[]): Promise<void> {
  expect(stub.audit()).toEqual([]);
  const snaps = all(stub);
  for (const s of snaps) {
    expect(s.state === 'Locked' || s.state === 'Running' ? s.lockedByUuid !== null : s.lockedByUuid === null).toBe(true);
  }
  const byReq = new Map<string, ContainerSnapshot[]>();
  for (const s of snaps) byReq.set(s.requestId, [...(byReq.get(s.requestId) ?? []), s]);
  for (const cs of byReq.values()) {
    const live = cs.filter((c) => c.state !== 'Complete' && c.state !== 'Cancelled');
    expect(live.length).toBeLessThanOrEqual(1);
    if (live.length === 1) expect(live[0]).toBe(cs.at(-1));
  }
  for (const o of stub.requestOutcomes()) expect(o.containers).toBeLessThanOrEqual(o.containerCountMax);
  // The indexes agree with a scan.
  if (stub.isUnavailable()) return;
  const q = await stub.listContainers({ filters: [['state', '=', 'Queued'], ['priority', '>', 0]], order: ['priority desc'], limit: 1000 });
  const want = snaps
    .filter((s) => s.state === 'Queued' && s.priority > 0n)
    .sort((a, b) => (a.priority > b.priority ? -1 : a.priority < b.priority ? 1 : a.uuid < b.uuid ? -1 : 1));
  expect(q.map((s) => s.uuid)).toEqual(want.map((s) => s.uuid));
  const mine = await stub.listContainers({ filters: [['locked_by_uuid', '=', stub.dispatcherAuthUuid]], order: ['uuid'], limit: 1000 });
  expect(mine.map((s) => s.uuid)).toEqual(snaps.filter((s) => s.lockedByUuid === stub.dispatcherAuthUuid).map((s) => s.uuid));
  expect(uuids.every((u) => stub.snapshot(u) !== undefined)).toBe(true);
}

describe('StubController properties', () => {
  it('random call sequences never apply an illegal transition nor exceed container_count_max', async () => {
    const stats = { transitions: 0, retries: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 20, maxLength: 100, size: 'max' }), fc.integer({ min: 1, max: 4 }), async (cmds, maxDispatch) => {
        const clock = new EventEngine(0);
        const stub = new StubController({ clock, priorityMode: 'as-given', maxDispatchAttempts: maxDispatch });
        const uuids: string[] = [];
        let n = 0;
        for (const c of cmds) {
          const before = uuids.length > 0 && 'i' in c ? stub.snapshot(uuids[c.i % uuids.length]!) : undefined;
          const count = stub.containerCount;
          try {
            await apply(stub, clock, c, uuids, n++);
          } catch (e) {
            if (!(e instanceof ControllerError)) throw e;
            expect([403, 404, 422, 503]).toContain(e.status);
            // A refused call changes nothing: the cached snapshot is the very same object.
            if (before !== undefined) expect(stub.snapshot(before.uuid)).toBe(before);
            expect(stub.containerCount).toBe(count);
          }
        }
        await checkInvariants(stub, uuids);
        for (const o of stub.requestOutcomes()) {
          const cs = stub.containersOf(o.requestId);
          expect(cs.slice(0, -1).every((c) => c.state === 'Cancelled')).toBe(true);
        }
        stats.transitions += stub.transitions().length;
        stats.retries += stub.outcomeCounts().retried;
        const counts = stub.outcomeCounts();
        expect(counts.complete + counts.failed + counts.cancelled + counts.unfinished).toBe(counts.total);
      }),
      { numRuns: 150 },
    );
    // The generator must reach the interesting states, or the property proves little.
    expect(stats.retries).toBeGreaterThan(30);
    expect(stats.transitions).toBeGreaterThan(1000);
  });
});
