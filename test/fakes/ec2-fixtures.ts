import { NO_GPU, type InstanceType } from '../../core/domain/instance-type.js';
import type { Clock, Timer } from '../../core/ports/clock.js';
import { nullLogger } from '../../core/ports/logger.js';
import { parseDriverParams } from '../../prod/ec2/driver-params.js';
import { Ec2InstanceSet } from '../../prod/ec2/ec2-instance-set.js';
import { Ec2Endpoint } from '../../sim/ec2/ec2-endpoint.js';
import type { InstanceSet } from '../../core/ports/instance-set.js';

const GiB = 1024 ** 3;

// The SDK warns once per process that its 2027 releases need Node 22; tests run on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Builder for instance types: `instanceType('m5.large', { preemptible: true })`. */
export function instanceType(name: string, o: Partial<InstanceType> = {}): InstanceType {
  return {
    name,
    providerType: name.replace(/\.preemptible$/, ''),
    vcpus: 2,
    ram: 8 * GiB,
    scratch: 32e9 + (o.addedScratch ?? 0),
    includedScratch: 32e9,
    addedScratch: 0,
    price: 0.1,
    preemptible: false,
    gpu: NO_GPU,
    ...o,
  };
}

/** The types the EC2 tests configure. */
export const TEST_TYPES: readonly InstanceType[] = [
  instanceType('m5.large', { price: 0.096 }),
  instanceType('m5.large.preemptible', { price: 0.04, preemptible: true }),
  instanceType('c5.xlarge', { vcpus: 4, price: 0.17 }),
  instanceType('c5.xlarge.scratch', { providerType: 'c5.xlarge', vcpus: 4, price: 0.17, addedScratch: 100 * GiB }),
  instanceType('p5.48xlarge', { vcpus: 192, price: 98 }),
];

/** A clock that only moves when told to; timers are not needed by the EC2 driver. */
export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  setTimer(): Timer {
    throw new Error('ManualClock: timers are not supported');
  }
  sleep(): Promise<void> {
    return Promise.reject(new Error('ManualClock: sleep is not supported'));
  }
}

export interface DriverOverEndpoint {
  readonly endpoint: Ec2Endpoint;
  readonly driver: Ec2InstanceSet;
  readonly clock: ManualClock;
  close(): Promise<void>;
}

/** The simulated EC2 endpoint serving `cloud`, and the production driver pointed at it. */
export async function driverOverEndpoint(
  cloud: InstanceSet,
  driverParameters: Record<string, unknown> = {},
  opts: { listPageSize?: number; types?: readonly InstanceType[] } = {},
): Promise<DriverOverEndpoint> {
  const clock = new ManualClock();
  const endpoint = await Ec2Endpoint.start({ instanceSet: cloud, types: opts.types ?? TEST_TYPES, now: () => clock.now() });
  const { params } = parseDriverParams({ Region: 'us-east-1', ...driverParameters });
  const driver = new Ec2InstanceSet({
    params,
    instanceSetId: 'zzzzz-zzzzz-zzzzzzzzzzzzzzz',
    logger: nullLogger,
    clock,
    endpoint: endpoint.url,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    ...(opts.listPageSize !== undefined ? { listPageSize: opts.listPageSize } : {}),
  });
  return {
    endpoint,
    driver,
    clock,
    async close() {
      driver.stop();
      await endpoint.close();
    },
  };
}
