import { afterEach, describe, expect, it } from 'vitest';
import { CapacityError, QuotaError, RateLimitError, TransientError } from '../../core/ports/errors.js';
import type { CreateRequest } from '../../core/ports/instance-set.js';
import { driverOverEndpoint, TEST_TYPES, type DriverOverEndpoint } from '../../test/fakes/ec2-fixtures.js';
import { simCloud } from '../../test/fakes/ec2-sim-cloud.js';
import type { CloudBehavior } from '../cloud/cloud-behavior.js';
import type { SimulatedCloud } from '../cloud/simulated-cloud.js';
import { advance } from '../vm/vm-test-kit.js';
import type { EventEngine } from '../engine/event-engine.js';

const type = (name: string) => TEST_TYPES.find((t) => t.name === name)!;
const req = (name: string): CreateRequest => ({
  type: type(name),
  imageId: 'ami-1',
  tags: { ArvadosInstanceSetID: 'set', ArvadosInstanceType: name },
  initCommand: 'umask 0177 && echo -n "0123456789abcdef0123456789abcdef01234567" >/var/run/arvados-instance-secret',
  publicKey: null,
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

/**
 * The simulated cloud's own faults (quota, vCPU quota groups, capacity outages, rate
 * limits, API outages), served by the endpoint and read by the production driver through
 * the real SDK: they arrive as the same kinds the cloud raised.
 */
describe('simulated cloud faults through the EC2 endpoint and the real SDK', () => {
  let h: DriverOverEndpoint;
  let cloud: SimulatedCloud;
  let engine: EventEngine;
  const start = async (behavior: Partial<CloudBehavior>) => {
    ({ cloud, engine } = simCloud({ apiLatencyMs: 0, ...behavior }));
    h = await driverOverEndpoint(cloud);
  };
  afterEach(async () => {
    await h.close();
  });

  it('instance quota: QuotaError', async () => {
    await start({ quota: { instances: 1 } });
    await h.driver.create(req('m5.large'));
    const e = await rejection(h.driver.create(req('m5.large')));
    expect(e).toBeInstanceOf(QuotaError);
    expect((e as Error).message).toContain('InstanceLimitExceeded');
  });

  it('vCPU quota of a group: CapacityError for that quota group', async () => {
    await start({ quota: { vcpus: { standard: 4, 'standard-spot': 2 } } });
    await h.driver.create(req('m5.large'));
    expect(await rejection(h.driver.create(req('c5.xlarge')))).toEqual(
      expect.objectContaining({ capacity: { scope: 'quota-group', quotaGroup: 'standard' } }),
    );
    await h.driver.create(req('m5.large.preemptible'));
    const spot = await rejection(h.driver.create(req('m5.large.preemptible')));
    expect(spot).toBeInstanceOf(CapacityError);
    expect((spot as CapacityError).capacity).toEqual({ scope: 'quota-group', quotaGroup: 'standard-spot' });
  });

  it('capacity outage of a type: CapacityError for that type, until the outage ends', async () => {
    await start({ capacity: [{ types: ['c5.xlarge'], from: 0, to: 3600_000 }] });
    const e = await rejection(h.driver.create(req('c5.xlarge')));
    expect((e as CapacityError).capacity).toEqual({ scope: 'type', providerType: 'c5.xlarge', preemptible: false });
    await h.driver.create(req('m5.large'));
    await advance(engine, 3600_000);
    await h.driver.create(req('c5.xlarge'));
  });

  it('API rate limit: RateLimitError on create and list', async () => {
    await start({ rateLimit: { opsPerSecond: 1, burst: 1 } });
    await h.driver.create(req('m5.large'));
    expect(await rejection(h.driver.create(req('m5.large')))).toBeInstanceOf(RateLimitError);
    expect(await rejection(h.driver.instances(null))).toBeInstanceOf(RateLimitError);
    await advance(engine, 1000);
    expect(await h.driver.instances(null)).toHaveLength(1);
  });

  it('API outage: TransientError', async () => {
    await start({});
    cloud.apiOutage(60_000);
    expect(await rejection(h.driver.create(req('m5.large')))).toBeInstanceOf(TransientError);
    expect(await rejection(h.driver.instances(null))).toBeInstanceOf(TransientError);
  });

  it("spot prices: the driver reads the cloud's billed spot price through DescribeSpotPriceHistory", async () => {
    await start({ spot: { priceFactor: 0.25, interruptionsPerHour: 0, noticeMs: 120_000 } });
    const created = await h.driver.create(req('m5.large.preemptible'));
    const [listed] = await h.driver.instances({ ArvadosInstanceSetID: 'set' });
    const history = listed!.priceHistory(type('m5.large.preemptible'));
    // m5.large on demand is 0.096: a quarter of it, since the instance was created.
    expect(history).toEqual([{ startTime: engine.now(), price: 0.024 }]);
    expect(created.priceHistory(type('m5.large.preemptible'))).toEqual(history);
    expect(cloud.ledger.record(created.id)?.price).toBe(0.024);
  });

  it('a VM created through the endpoint boots with the init command the driver sent', async () => {
    await start({});
    const inst = await h.driver.create(req('m5.large'));
    await advance(engine, 60_000);
    const vm = cloud.vm(inst.id)!;
    expect(vm.vmState()).toBe('up');
    const r = await vm.run('sudo cat /var/run/arvados-instance-secret', Buffer.alloc(0));
    expect(r.stdout.toString()).toBe('0123456789abcdef0123456789abcdef01234567');
  });
});
