import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { shellQuote } from '../../core/domain/shell.js';
import { HostKeyError } from '../../core/ports/errors.js';
import type { Executor } from '../../core/ports/executor.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';
import { EventEngine } from '../engine/event-engine.js';
import { RecordingCrunchRunWorld } from '../vm/crunch-run-world.js';
import { DirectExecutor } from '../vm/direct-executor.js';
import { NO_HOOKS, SimulatedVm } from '../vm/simulated-vm.js';
import { TEST_SECRET as SECRET, TEST_TYPE as TYPE, TEST_UUID as UUID } from '../vm/vm-test-kit.js';
import { SshTransport } from './ssh-transport.js';


// The production executor, over real SSH, against the real simulated VM on the virtual
// clock: what `--transport ssh` will run.
describe('SshTransport with a simulated VM', () => {
  it('checks the instance secret and runs crunch-run over SSH, with the VM latency on virtual time', async () => {
    const engine = new EventEngine(1_000_000);
    const vm = new SimulatedVm({
      instanceId: 'i-0123456789abcdef0',
      type: TYPE,
      initCommand: `umask 0177 && echo -n "${SECRET}" >/var/run/arvados-instance-secret`,
      publicKey: null,
      remoteUser: 'root',
      broken: false,
      rng: new SeededRng('ssh-transport-vm'),
      hooks: NO_HOOKS,
      clock: engine,
      world: new RecordingCrunchRunWorld(() => engine.now()),
      behavior: { commandLatencyMs: 7 },
    });
    await vm.boot();
    const transport = new SshTransport({ clock: engine, hold: () => engine.hold() });
    const secretCheck = (secret: string): ExecutorTarget['verifyHostKey'] =>
      async (_key, run) => {
        if ((await run('cat /var/run/arvados-instance-secret')).stdout.toString() !== secret) {
          throw new HostKeyError('verifying host key: bad instance secret');
        }
      };
    try {
      const server = await transport.startVm(vm.instanceId, vm);
      const target = (secret: string): ExecutorTarget => ({
        address: () => server.address,
        remoteUser: () => 'root',
        verifyHostKey: secretCheck(secret),
      });
      const good = transport.executorFactory()(target(SECRET));
      const impostor = transport.executorFactory()(target('f'.repeat(40)));
      const seen: string[] = [];
      const t0 = engine.now();
      engine.setTimer(0, () => {
        void (async () => {
          const list = await good.execute('crunch-run --list');
          seen.push(`${engine.now() - t0} list ${JSON.stringify(list.stdout.toString())}`);
          const det = await good.execute(`crunch-run --detach --stdin-config '--runtime-engine=docker' ${shellQuote(UUID)}`, {
            stdin: Buffer.from(
              JSON.stringify({ Env: { ARVADOS_API_HOST: 'ctrl.example:443', ARVADOS_API_TOKEN: 'tok', InstanceType: '{}' }, KeepBuffers: 0 }),
            ),
          });
          seen.push(`${engine.now() - t0} detached ${JSON.stringify(det.stderr.toString())}`);
          const after = await good.execute('crunch-run --list');
          seen.push(`${engine.now() - t0} list ${JSON.stringify(after.stdout.toString().trim())}`);
          const refused = await impostor.execute('crunch-run --list').catch((e: unknown) => e);
          seen.push(`${engine.now() - t0} ${refused instanceof HostKeyError ? 'refused' : String(refused)}`);
        })();
      });
      await engine.run({ horizon: engine.now() + 1_000 });
      // 7 ms per command on the VM: secret check + list, detach, list; then the impostor's check.
      expect(seen).toEqual(['14 list ""', '21 detached ""', `28 list "${UUID}"`, '35 refused']);
      good.close();
      impostor.close();
    } finally {
      await transport.close();
    }
  });

  // SshConnection queues commands beyond its session limit; a queued command must not hold
  // the virtual clock (the run would never advance), and the direct transport must start
  // them at the same times.
  it.each(['ssh', 'direct'] as const)('%s: commands beyond the session limit wait for a slot in virtual time', async (kind) => {
    const engine = new EventEngine(1_000_000);
    const vm = new SimulatedVm({
      instanceId: 'i-0123456789abcdef1',
      type: TYPE,
      initCommand: `umask 0177 && echo -n "${SECRET}" >/var/run/arvados-instance-secret`,
      publicKey: null,
      remoteUser: 'root',
      broken: false,
      rng: new SeededRng('ssh-transport-sessions'),
      hooks: NO_HOOKS,
      clock: engine,
      world: new RecordingCrunchRunWorld(() => engine.now()),
      behavior: { commandLatencyMs: 7 },
    });
    await vm.boot();
    const transport = new SshTransport({ clock: engine, hold: () => engine.hold(), executor: { maxSessionsPerConnection: 3 } });
    try {
      const server = await transport.startVm(vm.instanceId, vm);
      const target: ExecutorTarget = { address: () => server.address, remoteUser: () => 'root', verifyHostKey: () => Promise.resolve() };
      const ex: Executor =
        kind === 'ssh' ? transport.executorFactory()(target) : new DirectExecutor({ clock: engine, locate: () => vm, maxSessions: 3 }, target);
      const t0 = engine.now();
      const seen: string[] = [];
      engine.setTimer(0, () => {
        for (let i = 0; i < 7; i++) {
          void ex.execute('true', { timeoutMs: 20 }).then(
            () => seen.push(`${i}@${engine.now() - t0}`),
            (e: unknown) => seen.push(`${i}@${engine.now() - t0} ${(e as Error).name}`),
          );
        }
      });
      await engine.run({ horizon: t0 + 1_000 });
      // Three slots, 7 ms a command: 0-2 at 7, 3-5 at 14; 6 would end at 21, past its 20 ms.
      expect(seen.slice(0, 6)).toEqual(['0@7', '1@7', '2@7', '3@14', '4@14', '5@14']);
      expect(seen[6]).toBe('6@20 TimeoutError');
      ex.close();
    } finally {
      await transport.close();
    }
  });
});
