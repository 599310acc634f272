// The ControllerApi contract: the same cases run against the stub controller in process
// (sim/controller/stub-controller.contract.test.ts) and against the production HTTP client
// talking to the stub served over loopback (prod/controller/controller-client.contract.test.ts).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { Container } from '../../core/domain/container.js';
import type { ControllerApi, ListParams } from '../../core/ports/controller.js';
import { ControllerError } from '../../core/ports/errors.js';
import type { StubController, StubControllerOptions } from '../../sim/controller/stub-controller.js';
import { MAX_DISPATCH_ATTEMPTS_MESSAGE } from '../../sim/controller/stub-controller.js';
import { requestSpec } from '../../sim/controller/stub-fixtures.js';

/** What each implementation under test provides. */
export interface ControllerFixture {
  /** The implementation under test, as the dispatcher's token. */
  readonly api: ControllerApi;
  /** The same implementation as a second admin token (another dispatcher). */
  readonly other: ControllerApi;
  /** The stub behind it, to seed containers and play crunch-run and users. */
  readonly stub: StubController;
  close(): Promise<void>;
}

export type FixtureFactory = (opts: Partial<StubControllerOptions>) => Promise<ControllerFixture>;

async function statusOf(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof ControllerError) return e.status;
    throw e;
  }
}

/** Pages like the dispatcher's poll 1 (keyset on uuid until an empty page). */
async function pageByUuid(api: ControllerApi, filters: ListParams['filters'], limit: number): Promise<{ all: Container[]; requests: number }> {
  const all: Container[] = [];
  let requests = 0;
  for (;;) {
    const last = all.at(-1)?.uuid;
    const page = await api.listContainers({ filters: last === undefined ? filters : [...filters, ['uuid', '>', last]], order: ['uuid'], limit });
    requests++;
    if (page.length === 0) return { all, requests };
    all.push(...page);
  }
}

export function controllerContract(name: string, make: FixtureFactory): void {
  describe(`ControllerApi contract: ${name}`, () => {
    let fx: ControllerFixture;
    let opts: Partial<StubControllerOptions> = {};
    const setup = async (o: Partial<StubControllerOptions>): Promise<ControllerFixture> => {
      await fx.close();
      opts = o;
      fx = await make({ priorityMode: 'as-given', ...opts });
      return fx;
    };
    beforeEach(async () => {
      fx = await make({ priorityMode: 'as-given' });
    });
    afterEach(async () => {
      await fx.close();
    });

    it('reports the token identity', async () => {
      expect(await fx.api.currentAuthorizationUuid()).toBe(fx.stub.dispatcherAuthUuid);
      const other = await fx.other.currentAuthorizationUuid();
      expect(other).not.toBe(fx.stub.dispatcherAuthUuid);
    });

    it('pages containers locked by me with uuid keysets', async () => {
      const cs = Array.from({ length: 25 }, (_, i) => fx.stub.submitRequest(requestSpec(`r${i}`, i + 1)));
      const mine = cs.filter((_, i) => i % 2 === 0);
      for (const c of mine) await fx.api.lock(c.uuid);
      await fx.other.lock(cs[1]!.uuid);
      const me = await fx.api.currentAuthorizationUuid();
      const { all, requests } = await pageByUuid(fx.api, [['locked_by_uuid', '=', me]], 5);
      expect(all.map((c) => c.uuid)).toEqual(mine.map((c) => c.uuid));
      expect(all.every((c) => c.state === 'Locked' && c.lockedByUuid === me)).toBe(true);
      expect(requests).toBe(4);
    });

    it('pages the runnable queue by offset in priority order', async () => {
      const prios = [5, 3, 0, 9, 3, 7, 1, 0, 8, 2];
      prios.forEach((p, i) => fx.stub.submitRequest(requestSpec(`r${i}`, p)));
      const seen: Container[] = [];
      for (let offset = 0; ; offset += 3) {
        const page = await fx.api.listContainers({ filters: [['state', '=', 'Queued'], ['priority', '>', '0']], order: ['priority desc'], limit: 3, offset });
        if (page.length === 0) break;
        seen.push(...page);
      }
      expect(seen.map((c) => c.priority)).toEqual([9n, 8n, 7n, 5n, 3n, 3n, 2n, 1n]);
      expect(new Set(seen.map((c) => c.uuid)).size).toBe(8);
      expect(seen[0]!.runtimeConstraints.ram).toBe(1 << 30);
      expect(seen[0]!.mounts).toBeUndefined();
    });

    it('answers a long uuid-in query', async () => {
      const cs = Array.from({ length: 120 }, (_, i) => fx.stub.submitRequest(requestSpec(`r${i}`)));
      const wanted = cs.filter((_, i) => i % 3 === 1).map((c) => c.uuid);
      const missing = Array.from({ length: 200 }, (_, i) => `zzzzz-dz642-x${String(i).padStart(14, '0')}`);
      const got = await fx.api.listContainers({ filters: [['uuid', 'in', [...missing, ...wanted]]], order: ['uuid'], limit: 1000 });
      expect(got.map((c) => c.uuid)).toEqual(wanted);
    });

    it('keeps priorities above 2^53 exact', async () => {
      const p = 999999999999999999n;
      const c = fx.stub.submitRequest(requestSpec('big', p));
      fx.stub.submitRequest(requestSpec('next', p - 1n));
      expect((await fx.api.getContainer(c.uuid)).priority).toBe(p);
      const eq = await fx.api.listContainers({ filters: [['priority', '=', p]] });
      expect(eq.map((x) => x.uuid)).toEqual([c.uuid]);
      const gt = await fx.api.listContainers({ filters: [['priority', '>', p - 1n]] });
      expect(gt.map((x) => x.uuid)).toEqual([c.uuid]);
      expect((await fx.api.lock(c.uuid)).priority).toBe(p);
    });

    it('gets one container, with mounts when selected', async () => {
      const c = fx.stub.submitRequest(requestSpec('r', 4));
      const got = await fx.api.getContainer(c.uuid, ['mounts']);
      expect(got).toMatchObject({ uuid: c.uuid, state: 'Queued', priority: 4n, lockedByUuid: null, containerImage: c.containerImage, createdAt: c.createdAt });
      expect(got.mounts).toEqual({ '/tmp': { kind: 'tmp', capacity: 1 << 30 } });
      expect(got.schedulingParameters).toEqual(c.schedulingParameters);
    });

    it('answers 404 for an unknown container', async () => {
      const u = 'zzzzz-dz642-000000000009999';
      expect(await statusOf(fx.api.getContainer(u))).toBe(404);
      expect(await statusOf(fx.api.lock(u))).toBe(404);
      expect(await statusOf(fx.api.unlock(u))).toBe(404);
      expect(await statusOf(fx.api.update(u, { state: 'Cancelled' }))).toBe(404);
    });

    it('locks and unlocks by the rules (422, 403)', async () => {
      const c = fx.stub.submitRequest(requestSpec('r', 2));
      const held = fx.stub.submitRequest(requestSpec('held', 0));
      expect(await statusOf(fx.api.lock(held.uuid))).toBe(422);
      expect(await statusOf(fx.api.unlock(c.uuid))).toBe(422);
      const l = await fx.api.lock(c.uuid);
      expect(l).toMatchObject({ state: 'Locked', lockedByUuid: fx.stub.dispatcherAuthUuid, priority: 2n });
      const again = fx.api.lock(c.uuid);
      await expect(again).rejects.toBeInstanceOf(ControllerError);
      await expect(fx.api.lock(c.uuid)).rejects.toMatchObject({ status: 422, message: expect.stringContaining('cannot lock when Locked') });
      await expect(fx.other.unlock(c.uuid)).rejects.toMatchObject({ status: 403, message: expect.stringContaining('locked by a different token') });
      const u = await fx.api.unlock(c.uuid);
      expect(u).toMatchObject({ state: 'Queued', lockedByUuid: null });
      expect(fx.stub.snapshot(c.uuid)!.lockCount).toBe(1);
    });

    it('cancels with a runtime_status error, and the request is retried', async () => {
      const c = fx.stub.submitRequest(requestSpec('r', 1, { containerCountMax: 2 }));
      expect(await statusOf(fx.api.update(c.uuid, { runtimeStatus: { error: 'x' } }))).toBe(422);
      await fx.api.lock(c.uuid);
      const msg = 'constraints not satisfiable by any configured instance type';
      const withErr = await fx.api.update(c.uuid, { runtimeStatus: { error: msg } });
      expect(withErr.state).toBe('Locked');
      const done = await fx.api.update(c.uuid, { state: 'Cancelled' });
      expect(done.state).toBe('Cancelled');
      expect(fx.stub.snapshot(c.uuid)!.runtimeStatus).toEqual({ error: msg });
      const next = fx.stub.containersOf('r');
      expect(next).toHaveLength(2);
      const listed = await fx.api.listContainers({ filters: [['state', '=', 'Queued']] });
      expect(listed.map((x) => x.uuid)).toEqual([next[1]!.uuid]);
    });

    it('cancels on unlock after MaxDispatchAttempts locks', async () => {
      await setup({ maxDispatchAttempts: 2 });
      const c = fx.stub.submitRequest(requestSpec('r', 1, { containerCountMax: 1 }));
      await fx.api.lock(c.uuid);
      expect((await fx.api.unlock(c.uuid)).state).toBe('Queued');
      await fx.api.lock(c.uuid);
      expect((await fx.api.unlock(c.uuid)).state).toBe('Cancelled');
      const got = await fx.api.listContainers({ filters: [['uuid', '=', c.uuid]], select: ['runtime_status'] });
      expect(got[0]!.runtimeStatus).toEqual({ error: MAX_DISPATCH_ATTEMPTS_MESSAGE(2) });
      expect(fx.stub.containersOf('r')).toHaveLength(1);
    });

    it('surfaces 503 during an outage on every call and records it', async () => {
      const c = fx.stub.submitRequest(requestSpec('r'));
      expect(fx.api.last503()).toBe(0);
      fx.stub.setUnavailable(0, Number.MAX_SAFE_INTEGER);
      expect(await statusOf(fx.api.currentAuthorizationUuid())).toBe(503);
      expect(await statusOf(fx.api.listContainers({ filters: [] }))).toBe(503);
      expect(await statusOf(fx.api.getContainer(c.uuid))).toBe(503);
      expect(await statusOf(fx.api.lock(c.uuid))).toBe(503);
      expect(await statusOf(fx.api.unlock(c.uuid))).toBe(503);
      expect(await statusOf(fx.api.update(c.uuid, { state: 'Cancelled' }))).toBe(503);
      expect(fx.api.last503()).toBeGreaterThan(0);
      expect(fx.stub.snapshot(c.uuid)!.state).toBe('Queued');
    });

    it('follows crunch-run state changes made behind its back', async () => {
      const c = fx.stub.submitRequest(requestSpec('r'));
      await fx.api.lock(c.uuid);
      fx.stub.crunchRunStarted(c.uuid);
      const me = await fx.api.currentAuthorizationUuid();
      const running = await fx.api.listContainers({ filters: [['locked_by_uuid', '=', me]], order: ['uuid'] });
      expect(running.map((x) => x.state)).toEqual(['Running']);
      fx.stub.crunchRunFinished(c.uuid, 0);
      expect(await fx.api.listContainers({ filters: [['locked_by_uuid', '=', me]] })).toEqual([]);
      const fin = await fx.api.getContainer(c.uuid, ['exit_code']);
      expect(fin).toMatchObject({ state: 'Complete', exitCode: 0, lockedByUuid: null });
      expect(fx.stub.audit()).toEqual([]);
    });
  });
}
