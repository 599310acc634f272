import { FaultInjector } from '../fakes/ec2-fault-injector.js';
import { driverOverEndpoint, TEST_TYPES } from '../fakes/ec2-fixtures.js';
import { MemoryInstanceSet } from '../fakes/ec2-memory-instance-set.js';
import { instanceSetContract, type InstanceSetContractEnv } from './instance-set.contract.js';

const onDemand = TEST_TYPES.find((t) => t.name === 'm5.large')!;
const preemptible = TEST_TYPES.find((t) => t.name === 'm5.large.preemptible')!;

const direct = (cloud: FaultInjector) => ({
  onDemand,
  preemptible,
  call: <T>(op: () => Promise<T>) => op(),
  pass: () => Promise.resolve(),
  shutdownMs: 0,
  faults: cloud,
});

instanceSetContract('in-memory fake', () => {
  const cloud = new FaultInjector(new MemoryInstanceSet());
  return Promise.resolve<InstanceSetContractEnv>({ ...direct(cloud), instanceSet: cloud, teardown: () => Promise.resolve() });
});

instanceSetContract('EC2 driver -> simulated EC2 endpoint -> in-memory fake', async () => {
  const cloud = new FaultInjector(new MemoryInstanceSet());
  const h = await driverOverEndpoint(cloud);
  return { ...direct(cloud), instanceSet: h.driver, teardown: () => h.close() };
});
