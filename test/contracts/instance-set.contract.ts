import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstanceType } from '../../core/domain/instance-type.js';
import {
  CapacityError,
  NotFoundError,
  QuotaError,
  RateLimitError,
  TransientError,
  type DispatchError,
} from '../../core/ports/errors.js';
import type { CreateRequest, Instance, InstanceSet, InstanceTags } from '../../core/ports/instance-set.js';

/** Makes the next call of one kind fail inside the cloud, with a core error as the cloud raises it. */
export interface InstanceSetFaults {
  failNext(op: 'create' | 'list', error: DispatchError): void;
}

/** What an implementation under test offers the contract suite. */
export interface InstanceSetContractEnv {
  readonly instanceSet: InstanceSet;
  /** An on-demand type and a preemptible type of the same provider type. */
  readonly onDemand: InstanceType;
  readonly preemptible: InstanceType;
  /**
   * Runs one operation on the set to completion: implementations on virtual time run their
   * clock while it is pending; others just await it.
   */
  call<T>(op: () => Promise<T>): Promise<T>;
  /** Lets `ms` of the cloud's time pass (virtual, or nothing for clouds without delays). */
  pass(ms: number): Promise<void>;
  /** Enough time for a destroyed instance to stop being listed. */
  readonly shutdownMs: number;
  /** Fault injection into the cloud behind the implementation, when it has a way. */
  readonly faults?: InstanceSetFaults;
  teardown(): Promise<void>;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

const SET = 'TestInstanceSetID';

/**
 * The InstanceSet port's contract (core/ports/instance-set.ts), run against every
 * implementation: the simulated cloud directly, and the EC2 driver talking to the simulated
 * EC2 endpoint. Tags use Arvados' names so that endpoints keyed on them behave as in use.
 */
export function instanceSetContract(name: string, setup: () => Promise<InstanceSetContractEnv>): void {
  describe(`InstanceSet contract: ${name}`, () => {
    let env: InstanceSetContractEnv;
    let seq = 0;
    beforeEach(async () => {
      env = await setup();
    });
    afterEach(async () => {
      await env.teardown();
    });

    const request = (type: InstanceType, tags: InstanceTags = {}): CreateRequest => ({
      type,
      imageId: 'ami-0123456789abcdef0',
      tags: { [SET]: 'set-a', ArvadosInstanceType: type.name, ArvadosIdleBehavior: 'run', Seq: String(++seq), ...tags },
      initCommand: `umask 0177 && echo -n "${'a'.repeat(40)}" >/var/run/arvados-instance-secret\ntrue`,
      publicKey: null,
    });
    const create = (type: InstanceType, tags?: InstanceTags) => env.call(() => env.instanceSet.create(request(type, tags)));
    const list = (filter: InstanceTags | null) => env.call(() => env.instanceSet.instances(filter));
    const find = async (id: string, filter: InstanceTags | null = { [SET]: 'set-a' }): Promise<Instance | undefined> =>
      (await list(filter)).find((i) => i.id === id);

    it('create resolves with the new instance, of the requested provider type and tags', async () => {
      const inst = await create(env.onDemand, { Extra: 'x y' });
      expect(inst.id).not.toBe('');
      expect(inst.providerType).toBe(env.onDemand.providerType);
      expect(inst.tags).toMatchObject({ [SET]: 'set-a', Extra: 'x y', ArvadosInstanceType: env.onDemand.name });
      expect(typeof inst.address()).toBe('string');
      expect(inst.remoteUser()).not.toBe('');
    });

    it('every created instance has its own id', async () => {
      const a = await create(env.onDemand);
      const b = await create(env.onDemand);
      const c = await create(env.preemptible);
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    });

    it('instances(filter) lists instances whose tags include the filter, with their tags', async () => {
      const a = await create(env.onDemand, { Role: 'one' });
      const b = await create(env.onDemand, { [SET]: 'set-b' });
      const listed = await list({ [SET]: 'set-a' });
      expect(listed.map((i) => i.id)).toContain(a.id);
      expect(listed.map((i) => i.id)).not.toContain(b.id);
      expect(listed.find((i) => i.id === a.id)?.tags).toMatchObject({ [SET]: 'set-a', Role: 'one' });
      expect(listed.find((i) => i.id === a.id)?.providerType).toBe(env.onDemand.providerType);
    });

    it('a filter of several tags requires all of them', async () => {
      const a = await create(env.onDemand, { Role: 'one' });
      const b = await create(env.onDemand, { Role: 'two' });
      const ids = (await list({ [SET]: 'set-a', Role: 'two' })).map((i) => i.id);
      expect(ids).toContain(b.id);
      expect(ids).not.toContain(a.id);
    });

    it('instances(null) lists everything the set may see', async () => {
      const a = await create(env.onDemand);
      const b = await create(env.preemptible, { [SET]: 'set-b' });
      const ids = (await list(null)).map((i) => i.id);
      expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    });

    it('setTags changes the tags the next listing shows; the old snapshot does not change', async () => {
      const a = await create(env.onDemand);
      const before = { ...a.tags };
      await env.call(() => a.setTags({ ...a.tags, ArvadosIdleBehavior: 'hold', Added: 'yes' }));
      expect(a.tags).toEqual(before);
      const again = await find(a.id);
      expect(again?.tags).toMatchObject({ [SET]: 'set-a', ArvadosIdleBehavior: 'hold', Added: 'yes' });
    });

    it('destroy is accepted, and the instance stops being listed; others stay', async () => {
      const a = await create(env.onDemand);
      const b = await create(env.onDemand);
      await env.call(() => a.destroy());
      await env.pass(env.shutdownMs);
      const ids = (await list({ [SET]: 'set-a' })).map((i) => i.id);
      expect(ids).not.toContain(a.id);
      expect(ids).toContain(b.id);
    });

    it('destroying an instance that is gone resolves or rejects with NotFoundError', async () => {
      const a = await create(env.onDemand);
      await env.call(() => a.destroy());
      await env.pass(env.shutdownMs);
      const second = await env.call(() => a.destroy()).then(
        () => null,
        (e: unknown) => e,
      );
      if (second !== null) expect(second).toBeInstanceOf(NotFoundError);
    });

    it('preemptible and on-demand types never share a quota group', () => {
      expect(env.instanceSet.instanceQuotaGroup(env.preemptible)).not.toBe(env.instanceSet.instanceQuotaGroup(env.onDemand));
      expect(env.instanceSet.instanceQuotaGroup(env.onDemand)).toBe(env.instanceSet.instanceQuotaGroup({ ...env.onDemand, name: 'other' }));
    });

    it('priceHistory is ordered oldest first, with positive prices', async () => {
      await create(env.preemptible);
      await create(env.onDemand);
      for (const i of await list({ [SET]: 'set-a' })) {
        const type = i.tags.ArvadosInstanceType === env.preemptible.name ? env.preemptible : env.onDemand;
        const h = i.priceHistory(type);
        for (let k = 1; k < h.length; k++) expect(h[k]!.startTime).toBeGreaterThanOrEqual(h[k - 1]!.startTime);
        for (const p of h) expect(p.price).toBeGreaterThan(0);
      }
    });

    describe('errors from the cloud keep their kind', () => {
      const skip = (): boolean => env.faults === undefined;

      it('quota', async () => {
        if (skip()) return;
        env.faults?.failNext('create', new QuotaError('at quota'));
        expect(await rejection(create(env.onDemand))).toBeInstanceOf(QuotaError);
      });

      it('capacity of one type', async () => {
        if (skip()) return;
        const t = env.preemptible;
        env.faults?.failNext('create', new CapacityError('no capacity', { scope: 'type', providerType: t.providerType, preemptible: true }));
        const e = await rejection(create(t));
        expect(e).toBeInstanceOf(CapacityError);
        expect((e as CapacityError).capacity).toEqual({ scope: 'type', providerType: t.providerType, preemptible: true });
      });

      it('capacity of a quota group', async () => {
        if (skip()) return;
        const group = env.instanceSet.instanceQuotaGroup(env.onDemand);
        env.faults?.failNext('create', new CapacityError('vcpu limit', { scope: 'quota-group', quotaGroup: group }));
        const e = await rejection(create(env.onDemand));
        expect(e).toBeInstanceOf(CapacityError);
        expect((e as CapacityError).capacity).toEqual({ scope: 'quota-group', quotaGroup: group });
      });

      it('rate limit on create and on list', async () => {
        if (skip()) return;
        env.faults?.failNext('create', new RateLimitError('slow down', 1000));
        const e = await rejection(create(env.onDemand));
        expect(e).toBeInstanceOf(RateLimitError);
        expect((e as RateLimitError).retryAfterMs).toBeGreaterThan(0);
        env.faults?.failNext('list', new RateLimitError('slow down', 1000));
        expect(await rejection(list({ [SET]: 'set-a' }))).toBeInstanceOf(RateLimitError);
      });

      it('transient', async () => {
        if (skip()) return;
        env.faults?.failNext('create', new TransientError('try again'));
        const e = await rejection(create(env.onDemand));
        expect(e).toBeInstanceOf(Error);
        expect(e).not.toBeInstanceOf(QuotaError);
        expect(e).not.toBeInstanceOf(CapacityError);
        expect(e).not.toBeInstanceOf(RateLimitError);
      });
    });
  });
}
