import { describe, expect, it } from 'vitest';
import type { Clock } from '../../core/ports/clock.js';
import type { InstanceSet } from '../../core/ports/instance-set.js';
import type { SimulatedCloud } from '../../sim/cloud/simulated-cloud.js';
import type { EventEngine } from '../../sim/engine/event-engine.js';
import { DirectExecutor } from '../../sim/vm/direct-executor.js';
import { advance, runUntilSettled } from '../../sim/vm/vm-test-kit.js';
import { driverOverEndpoint, TEST_TYPES } from '../../test/fakes/ec2-fixtures.js';
import { simCloud } from '../../test/fakes/ec2-sim-cloud.js';
import { runCloudTest, type CloudTestOptions } from './cloud-tester.js';

const SECRET = '0123456789abcdef0123456789abcdef01234567';
const SET = 'zzzzz-zzzzz-zzzzzzcloudtest';

function options(instanceSet: InstanceSet, cloud: SimulatedCloud, clock: Clock, lines: string[], o: Partial<CloudTestOptions> = {}): CloudTestOptions {
  return {
    instanceSet,
    newExecutor: (target) => {
      const ex = new DirectExecutor({ clock, locate: cloud.locate });
      ex.setTarget(target);
      return ex;
    },
    clock,
    log: (l) => lines.push(l),
    instanceSetId: SET,
    tagKeyPrefix: 'Arvados',
    resourceTags: { Owner: 'ops' },
    type: TEST_TYPES[0]!,
    imageId: 'ami-1',
    instanceInitCommand: 'true',
    publicKey: null,
    bootProbeCommand: 'sudo cat /var/run/arvados-instance-secret',
    command: 'echo hello',
    destroyExisting: false,
    secret: SECRET,
    pid: 4242,
    syncIntervalMs: 10_000,
    probeIntervalMs: 10_000,
    timeoutBootingMs: 600_000,
    timeoutShutdownMs: 600_000,
    sshPort: '22',
    ...o,
  };
}

/** Runs the engine in the background, 1 s of virtual time per tick, while `p` is pending (calls over HTTP in between). */
async function pump<T>(engine: EventEngine, p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => (done = true));
  while (!done) {
    await engine.run({ horizon: engine.now() + 1000 });
    await new Promise((r) => setImmediate(r));
  }
  return settled;
}

describe('cloudtest', () => {
  it('passes against the simulated cloud: create, list, tags, boot probe, command, destroy', async () => {
    const { engine, cloud } = simCloud({ apiLatencyMs: 100, shutdownMs: 30_000 });
    const lines: string[] = [];
    const r = await runUntilSettled(engine, runCloudTest(options(cloud, cloud, engine, lines)));
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(cloud.liveInstanceIds()).toEqual([]);
    expect(lines.join('\n')).toMatch(/boot probe succeeded[\s\S]*command succeeded: stdout "hello\\n"[\s\S]*is gone/);
    expect(lines.some((l) => /^to log in: ssh -p22 crunch@10\./.test(l))).toBe(true);
  });

  it('passes through the EC2 driver and the simulated endpoint', async () => {
    const { engine, cloud } = simCloud({ apiLatencyMs: 0, shutdownMs: 30_000 });
    const h = await driverOverEndpoint(cloud);
    try {
      const lines: string[] = [];
      const r = await pump(engine, runCloudTest(options(h.driver, cloud, engine, lines)));
      expect(r.failures).toEqual([]);
      // The driver skips shutting-down instances; the cloud forgets them after shutdownMs.
      await advance(engine, 30_000);
      expect(cloud.liveInstanceIds()).toEqual([]);
      const run = h.endpoint.calls('RunInstances')[0]!.params;
      expect(run).toMatchObject({ 'TagSpecification.1.Tag.2.Key': 'ArvadosCloudTestPID', 'TagSpecification.1.Tag.2.Value': '4242' });
    } finally {
      await h.close();
    }
  });

  it('refuses to run over instances of the same instance set, unless told to destroy them', async () => {
    const { engine, cloud } = simCloud({ apiLatencyMs: 100, shutdownMs: 30_000 });
    const old = cloud.addForeignInstance(TEST_TYPES[0]!, { ArvadosInstanceSetID: SET });
    const lines: string[] = [];
    const refused = await runUntilSettled(engine, runCloudTest(options(cloud, cloud, engine, lines)));
    expect(refused.ok).toBe(false);
    expect(refused.failures[0]).toContain('--destroy-existing');
    expect(cloud.liveInstanceIds()).toEqual([old]);
    const r = await runUntilSettled(engine, runCloudTest(options(cloud, cloud, engine, lines, { destroyExisting: true })));
    expect(r.failures).toEqual([]);
    expect(cloud.liveInstanceIds()).toEqual([]);
  });

  it('reports a failing boot probe and a failing create, and still cleans up', async () => {
    const { engine, cloud } = simCloud({ apiLatencyMs: 100, shutdownMs: 30_000 });
    const lines: string[] = [];
    const r = await runUntilSettled(engine, runCloudTest(options(cloud, cloud, engine, lines, { bootProbeCommand: 'false', timeoutBootingMs: 120_000 })));
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual([expect.stringMatching(/^boot probe: no success within TimeoutBooting/)]);
    expect(cloud.liveInstanceIds()).toEqual([]);

    cloud.setQuota({ instances: 0 });
    const q = await runUntilSettled(engine, runCloudTest(options(cloud, cloud, engine, lines, { timeoutBootingMs: 30_000 })));
    expect(q.ok).toBe(false);
    expect(q.failures[0]).toMatch(/^creating instance: .*InstanceLimitExceeded/);
    expect(q.instanceId).toBeNull();
  });
});

describe('cloudtest tag check', () => {
  it('reports a wrong tag without printing the instance secret', async () => {
    const { engine, cloud } = simCloud({ apiLatencyMs: 100, shutdownMs: 30_000 });
    // A driver that loses the secret tag and changes another one.
    const lossy: InstanceSet = {
      create: (req) => cloud.create({ ...req, tags: { ...req.tags, ArvadosInstanceSecret: 'f'.repeat(40), Owner: 'someone-else' } }),
      instances: (f) => cloud.instances(f),
      instanceQuotaGroup: (t) => cloud.instanceQuotaGroup(t),
      stop: () => {},
    };
    const lines: string[] = [];
    const r = await runUntilSettled(engine, runCloudTest(options(lossy, cloud, engine, lines)));
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual([
      expect.stringMatching(/tag Owner is "someone-else", expected "ops"$/),
      expect.stringMatching(/tag ArvadosInstanceSecret is wrong, expected \(the instance secret\)$/),
    ]);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain('f'.repeat(40));
  });
});
