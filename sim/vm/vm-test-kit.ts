import { NO_GPU, type InstanceType } from '../../core/domain/instance-type.js';
import type { EventEngine } from '../engine/event-engine.js';

/**
 * Step the event engine one instant at a time until `p` settles, then return its result.
 * For tests of code that waits on the virtual clock; throws if the engine runs dry first.
 */
export async function runUntilSettled<T>(engine: EventEngine, p: Promise<T>): Promise<T> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await engine.settle();
  while (!done) {
    const next = engine.nextTime();
    if (next === undefined) throw new Error('running until settled: no timer left and the promise is still pending');
    await engine.run({ horizon: next });
  }
  return p;
}

/** Move the virtual clock forward by `ms`, firing every timer due meanwhile. */
export async function advance(engine: EventEngine, ms: number): Promise<void> {
  const until = engine.now() + ms;
  // A timer at the target instant, so the clock gets there even when nothing else is due.
  engine.setTimer(ms, () => {});
  await engine.run({ horizon: until });
}

/** A VM's instance secret, a container uuid and an instance type for simulated-VM tests. */
export const TEST_SECRET = '0123456789abcdef0123456789abcdef01234567';
export const TEST_UUID = 'zzzzz-dz642-abcdefghijklmno';
export const TEST_TYPE: InstanceType = {
  name: 'm5.large',
  providerType: 'm5.large',
  vcpus: 2,
  ram: 8 << 30,
  scratch: 32e9,
  includedScratch: 32e9,
  addedScratch: 0,
  price: 0.096,
  preemptible: false,
  gpu: NO_GPU,
};
