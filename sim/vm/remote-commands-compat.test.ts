import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NO_GPU, type InstanceType } from '../../core/domain/instance-type.js';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { configData } from '../../core/pool/config-data.js';
import { parseListOutput, RemoteCommands } from '../../core/pool/remote-commands.js';
import { initCommand, newInstanceSecret } from '../../core/pool/tags.js';
import { EventEngine } from '../engine/event-engine.js';
import { RecordingCrunchRunWorld } from './crunch-run-world.js';
import { NO_HOOKS, SimulatedVm } from './simulated-vm.js';
import { advance, runUntilSettled } from './vm-test-kit.js';

// The simulated VM must understand the exact strings the production pool sends.
const TYPE: InstanceType = { name: 'm5.large', providerType: 'm5.large', vcpus: 2, ram: 8 << 30, scratch: 0, includedScratch: 0, addedScratch: 0, price: 0.1, preemptible: true, gpu: NO_GPU };
const UUID = 'zzzzz-dz642-000000000000001';

describe('simulated VM against the pool’s RemoteCommands', () => {
  for (const user of ['root', 'crunch']) {
    for (const deploy of [true, false]) {
      it(`runs the whole protocol (user ${user}, ${deploy ? 'deployed runner' : 'installed crunch-run'})`, async () => {
        const engine = new EventEngine(0);
        const world = new RecordingCrunchRunWorld(() => engine.now(), () => ({ runtimeMs: 600_000, outcome: 'complete' }));
        const secret = newInstanceSecret(new SeededRng('s'));
        const vm = new SimulatedVm({
          instanceId: 'i-1',
          type: TYPE,
          initCommand: initCommand(secret, 'echo custom-init >/tmp/init-ran'),
          publicKey: null,
          remoteUser: user,
          broken: false,
          rng: new SeededRng('vm'),
          hooks: NO_HOOKS,
          clock: engine,
          world,
        });
        await vm.boot();
        const binary = Buffer.from('runner binary');
        const md5 = createHash('md5').update(binary).digest('hex');
        const cmds = new RemoteCommands(deploy ? `/var/lib/arvados/crunch-run~${md5}` : 'crunch-run', user);
        const run = async (cmd: string, stdin: Buffer = Buffer.alloc(0)) => {
          const r = await runUntilSettled(engine, vm.run(cmd, stdin));
          return { exitCode: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
        };

        expect((await run(cmds.catSecret())).stdout).toBe(secret);
        // The init script's umask 0177 applies to the operator's lines too, as in sh.
        expect((await run('sudo cat /tmp/init-ran')).stdout).toBe('custom-init\n');
        if (deploy) {
          const before = await run(cmds.md5sum());
          expect(cmds.md5Matches(before.stdout, before.stderr, md5)).toBe(false);
          expect((await run(cmds.install(), binary)).exitCode).toBe(0);
          const after = await run(cmds.md5sum());
          expect(cmds.md5Matches(after.stdout, after.stderr, md5)).toBe(true);
        }
        const prices = Buffer.from(JSON.stringify([{ StartTime: '2026-01-01T00:00:00Z', Price: 0.03 }]));
        expect(await run(cmds.list(true), prices)).toMatchObject({ exitCode: 0, stdout: '' });
        const stdin = configData({
          uuid: UUID,
          type: TYPE,
          address: '10.0.0.1',
          env: { apiHost: 'ctrl.example:443', apiToken: 'token', insecure: false },
          systemRootToken: 'root-token',
          keepBuffersPerVCPU: 1,
          clusterJson: { ClusterID: 'zzzzz' },
          ec2SpotCheck: true,
        });
        const detach = await run(cmds.detach(UUID, ['--runtime-engine=docker']), stdin);
        expect(detach.exitCode).toBe(0);
        await advance(engine, 5000);
        expect(parseListOutput((await run(cmds.list(false))).stdout, 'zzzzz')).toEqual({ running: [UUID], stale: [], broken: false, rejected: [] });
        expect((await run(cmds.kill(UUID, 15))).exitCode).toBe(0);
        expect(parseListOutput((await run(cmds.list(false))).stdout, 'zzzzz').running).toEqual([]);
        expect(world.calls.map((c) => c.kind)).toEqual(['starting', 'running', 'cancelled']);
        expect(world.calls[0]).toMatchObject({ config: { EC2SpotCheck: true, KeepBuffers: 2 } });
      });
    }
  }
});
