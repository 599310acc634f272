import { describe, it, expect } from 'vitest';
import { TransientError } from '../ports/errors.js';
import { nullLogger } from '../ports/logger.js';
import { FakeCloud } from '../../test/fakes/pool-fake-cloud.js';
import { instanceType, RecordingMetrics, virtualClock } from '../../test/fakes/pool-harness.js';
import { RateLimiter } from './rate-limited-instance-set.js';
import { wrapInstanceSet } from './wrap-instance-set.js';

const t = instanceType('t1');
const req = (tags: Record<string, string>) => ({ type: t, imageId: 'img', tags, initCommand: 'true', publicKey: null });

describe('InstanceSet decorators', () => {
  it('filtering: drops instances that do not carry every filter tag, even if the driver returns them', async () => {
    const clock = virtualClock();
    const cloud = new FakeCloud(clock, { ignoreFilter: true });
    cloud.addVm('t1', { ArvadosInstanceSetID: 'us', x: '1' });
    cloud.addVm('t1', { ArvadosInstanceSetID: 'them' });
    cloud.addVm('t1', {});
    const set = wrapInstanceSet(cloud, { config: { MaxCloudOpsPerSecond: 0, ResourceTags: {} }, clock, logger: nullLogger, metrics: new RecordingMetrics() });
    const listed = await set.instances({ ArvadosInstanceSetID: 'us' });
    expect(listed.map((i) => i.tags['ArvadosInstanceSetID'])).toEqual(['us']);
    expect(await set.instances(null)).toHaveLength(3);
  });

  it('default tags: ResourceTags are added to every create, and our own tags win', async () => {
    const clock = virtualClock();
    const cloud = new FakeCloud(clock);
    const set = wrapInstanceSet(cloud, {
      config: { MaxCloudOpsPerSecond: 0, ResourceTags: { team: 'genomics', ArvadosInstanceSetID: 'forged' } },
      clock,
      logger: nullLogger,
      metrics: new RecordingMetrics(),
    });
    await set.create(req({ ArvadosInstanceSetID: 'us' }));
    expect(cloud.calls.create[0]!.tags).toEqual({ team: 'genomics', ArvadosInstanceSetID: 'us' });
  });

  it('rate limiting: create, list, destroy and setTags share one pace of MaxCloudOpsPerSecond', async () => {
    const clock = virtualClock(1_000);
    const cloud = new FakeCloud(clock);
    const set = wrapInstanceSet(cloud, { config: { MaxCloudOpsPerSecond: 10, ResourceTags: {} }, clock, logger: nullLogger, metrics: new RecordingMetrics() });
    const times: number[] = [];
    const stamp = <T>(p: Promise<T>) => p.then((v) => (times.push(clock.now()), v));
    const a = stamp(set.create(req({})));
    const b = stamp(set.instances(null));
    const c = stamp(set.create(req({})));
    await clock.run();
    const [inst] = await Promise.all([a, b, c]);
    expect(times).toEqual([1_000, 1_100, 1_200]);
    const d = stamp(inst.setTags({ k: 'v' }));
    const e = stamp(inst.destroy());
    await clock.run();
    await Promise.all([d, e]);
    expect(times.slice(3)).toEqual([1_300, 1_400]);
  });

  it('rate limiter: an idle limiter lets the next call through at once', async () => {
    const clock = virtualClock(0);
    const lim = new RateLimiter(clock, 2);
    await lim.wait();
    clock.setTimer(10_000, () => {});
    await clock.run();
    const before = clock.now();
    let passed = false;
    void lim.wait().then(() => (passed = true));
    await clock.settle();
    expect(passed).toBe(true);
    expect(clock.now()).toBe(before);
  });

  it('instrumentation: driver_operations counts each call with its error flag, pre-created at 0', async () => {
    const clock = virtualClock();
    const cloud = new FakeCloud(clock);
    const metrics = new RecordingMetrics();
    const set = wrapInstanceSet(cloud, { config: { MaxCloudOpsPerSecond: 0, ResourceTags: {} }, clock, logger: nullLogger, metrics });
    expect(metrics.value('driver_operations', { operation: 'Destroy', error: '1' })).toBe(0);
    expect(metrics.values.has('driver_operations{error=1,operation=Destroy}')).toBe(true);
    const inst = await set.create(req({}));
    cloud.failNext('list', new TransientError('listing: 503'));
    await expect(set.instances(null)).rejects.toBeInstanceOf(TransientError);
    await inst.destroy();
    expect(metrics.value('driver_operations', { operation: 'Create', error: '0' })).toBe(1);
    expect(metrics.value('driver_operations', { operation: 'List', error: '1' })).toBe(1);
    expect(metrics.value('driver_operations', { operation: 'Destroy', error: '0' })).toBe(1);
  });
});
