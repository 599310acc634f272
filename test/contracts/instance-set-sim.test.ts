import { expect } from 'vitest';
import { advance, runUntilSettled } from '../../sim/vm/vm-test-kit.js';
import { FaultInjector } from '../fakes/ec2-fault-injector.js';
import { driverOverEndpoint, TEST_TYPES } from '../fakes/ec2-fixtures.js';
import { simCloud } from '../fakes/ec2-sim-cloud.js';
import { instanceSetContract } from './instance-set.contract.js';

const onDemand = TEST_TYPES.find((t) => t.name === 'm5.large')!;
const preemptible = TEST_TYPES.find((t) => t.name === 'm5.large.preemptible')!;
const SHUTDOWN_MS = 30_000;

instanceSetContract('simulated cloud', () => {
  // API calls take virtual time here, so each call runs the engine until it settles.
  const { engine, cloud } = simCloud({ apiLatencyMs: 200, shutdownMs: SHUTDOWN_MS });
  const faults = new FaultInjector(cloud);
  return Promise.resolve({
    instanceSet: faults,
    onDemand,
    preemptible,
    call: <T>(op: () => Promise<T>) => runUntilSettled(engine, op()),
    pass: (ms: number) => advance(engine, ms),
    shutdownMs: SHUTDOWN_MS + 1,
    faults,
    teardown: () => Promise.resolve(),
  });
});

instanceSetContract('EC2 driver -> simulated EC2 endpoint -> simulated cloud', async () => {
  // Served over HTTP nobody drives the virtual clock during a call: API latency 0.
  const { engine, cloud } = simCloud({ apiLatencyMs: 0, shutdownMs: SHUTDOWN_MS });
  const faults = new FaultInjector(cloud);
  const h = await driverOverEndpoint(faults);
  for (const t of TEST_TYPES) expect(h.driver.instanceQuotaGroup(t)).toBe(cloud.instanceQuotaGroup(t));
  return {
    instanceSet: h.driver,
    onDemand,
    preemptible,
    call: <T>(op: () => Promise<T>) => op(),
    pass: (ms: number) => advance(engine, ms),
    shutdownMs: SHUTDOWN_MS + 1,
    faults,
    teardown: () => h.close(),
  };
});
