import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapacityError, NotFoundError, QuotaError, RateLimitError, TransientError } from '../../core/ports/errors.js';
import type { CreateRequest } from '../../core/ports/instance-set.js';
import { driverOverEndpoint, TEST_TYPES, type DriverOverEndpoint } from '../../test/fakes/ec2-fixtures.js';
import { MemoryInstanceSet } from '../../test/fakes/ec2-memory-instance-set.js';
import { classifyEc2Code, EC2_ERROR_TABLE, isSubnetSpecific, ThrottleBackoff } from './error-table.js';
import { Ec2InstanceSet } from './ec2-instance-set.js';
import { parseDriverParams } from './driver-params.js';
import { nullLogger } from '../../core/ports/logger.js';
import { ManualClock } from '../../test/fakes/ec2-fixtures.js';

const spot = TEST_TYPES.find((t) => t.name === 'm5.large.preemptible')!;
const onDemand = TEST_TYPES.find((t) => t.name === 'c5.xlarge')!;

const req = (type = onDemand): CreateRequest => ({ type, imageId: 'ami-1', tags: { ArvadosInstanceSetID: 's' }, initCommand: 'true', publicKey: null });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('EC2 error table, through the real SDK and the simulated endpoint', () => {
  let h: DriverOverEndpoint;
  beforeAll(async () => {
    h = await driverOverEndpoint(new MemoryInstanceSet());
  });
  afterAll(async () => {
    await h.close();
  });

  // Every code in the table, injected as EC2 would send it, comes out as its kind.
  const codes = Object.keys(EC2_ERROR_TABLE);
  it.each(codes)('RunInstances %s', async (code) => {
    const message = code === 'Unsupported' ? 'The requested instance type is not supported in us-east-1a' : undefined;
    h.endpoint.injectError('RunInstances', code, message !== undefined ? { message } : {});
    const e = await rejection(h.driver.create(req(spot)));
    const cls = classifyEc2Code(code, message ?? '');
    expect(cls).not.toBeNull();
    expect((e as Error).message).toContain(code);
    switch (cls?.kind) {
      case 'rate-limit':
        expect(e).toBeInstanceOf(RateLimitError);
        break;
      case 'quota':
        expect(e).toBeInstanceOf(QuotaError);
        break;
      case 'capacity':
        expect(e).toBeInstanceOf(CapacityError);
        expect((e as CapacityError).capacity).toEqual(
          cls.scope === 'type'
            ? { scope: 'type', providerType: 'm5.large', preemptible: true }
            : { scope: 'quota-group', quotaGroup: 'standard-spot' },
        );
        break;
      case 'not-found':
        expect(e).toBeInstanceOf(NotFoundError);
        break;
      case 'transient':
        expect(e).toBeInstanceOf(TransientError);
        break;
    }
  });

  it('Unsupported without "requested instance type" is not a capacity error', async () => {
    h.endpoint.injectError('RunInstances', 'Unsupported', { message: 'The feature is not supported' });
    const e = await rejection(h.driver.create(req()));
    expect(e).not.toBeInstanceOf(CapacityError);
    expect((e as Error).message).toContain('Unsupported');
  });

  it('an unknown code stays a plain error naming the code', async () => {
    h.endpoint.injectError('RunInstances', 'InvalidAMIID.Malformed', { message: 'Invalid id: "ami-1"' });
    const e = await rejection(h.driver.create(req()));
    expect(e).toBeInstanceOf(Error);
    expect(Object.getPrototypeOf(e)).toBe(Error.prototype);
    expect((e as Error).message).toBe('creating c5.xlarge instance: InvalidAMIID.Malformed: Invalid id: "ami-1"');
  });

  it('throttling backs off 1 s, doubling to 60 s, and a success resets it', async () => {
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      h.endpoint.injectError('DescribeInstances', 'RequestLimitExceeded');
      const e = await rejection(h.driver.instances(null));
      expect(e).toBeInstanceOf(RateLimitError);
      waits.push((e as RateLimitError).retryAfterMs);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    await h.driver.instances(null);
    h.endpoint.injectError('DescribeInstances', 'Throttling');
    expect(((await rejection(h.driver.instances(null))) as RateLimitError).retryAfterMs).toBe(1000);
  });

  it('create and list keep separate back-off', async () => {
    await h.driver.create(req()); // a success resets the create back-off left by the cases above
    h.endpoint.injectError('DescribeInstances', 'RequestLimitExceeded', { times: 2 });
    await rejection(h.driver.instances(null));
    await rejection(h.driver.instances(null));
    h.endpoint.injectError('RunInstances', 'RequestLimitExceeded');
    expect(((await rejection(h.driver.create(req()))) as RateLimitError).retryAfterMs).toBe(1000);
  });

  it('TerminateInstances and CreateTags: not found, throttled, server errors', async () => {
    const inst = await h.driver.create(req());
    h.endpoint.injectError('TerminateInstances', 'InvalidInstanceID.NotFound', { message: `The instance ID '${inst.id}' does not exist` });
    expect(await rejection(inst.destroy())).toBeInstanceOf(NotFoundError);
    h.endpoint.injectError('CreateTags', 'RequestLimitExceeded');
    expect(await rejection(inst.setTags({ a: 'b' }))).toBeInstanceOf(RateLimitError);
    h.endpoint.injectError('CreateTags', 'InternalError');
    expect(await rejection(inst.setTags({ a: 'b' }))).toBeInstanceOf(TransientError);
    await inst.destroy();
  });

  it('no answer at all (connection refused) is transient', async () => {
    const { params } = parseDriverParams({ Region: 'us-east-1' });
    const dead = new Ec2InstanceSet({
      params,
      instanceSetId: 'x',
      logger: nullLogger,
      clock: new ManualClock(),
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    try {
      expect(await rejection(dead.instances(null))).toBeInstanceOf(TransientError);
    } finally {
      dead.stop();
    }
  });
});

describe('error table helpers', () => {
  it('subnet-specific errors', () => {
    expect(isSubnetSpecific('InvalidSubnetID.NotFound', '')).toBe(true);
    expect(isSubnetSpecific('InsufficientFreeAddressesInSubnet', '')).toBe(true);
    expect(isSubnetSpecific('InsufficientInstanceCapacity', '')).toBe(true);
    expect(isSubnetSpecific('Unsupported', '')).toBe(true);
    expect(isSubnetSpecific('InvalidParameterValue', 'Value (x) for parameter groupId is invalid')).toBe(false);
    expect(isSubnetSpecific('InvalidParameterValue', 'the subnet subnet-1 has insufficient free IPv4 addresses')).toBe(true);
    expect(isSubnetSpecific('InvalidParameterCombination', 'for subnet subnet-1 x')).toBe(true);
    expect(isSubnetSpecific('InstanceLimitExceeded', 'subnet')).toBe(false);
  });

  it('back-off sequence', () => {
    const b = new ThrottleBackoff();
    expect([b.next(), b.next(), b.next()]).toEqual([1000, 2000, 4000]);
    b.reset();
    expect(b.next()).toBe(1000);
  });

  it('codes are matched exactly, not by prototype keys', () => {
    expect(classifyEc2Code('constructor', '')).toBeNull();
    expect(classifyEc2Code('requestlimitexceeded', '')).toBeNull();
  });
});
