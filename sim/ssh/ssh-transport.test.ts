import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError, TransientError } from '../../core/ports/errors.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';
import type { CommandHandler } from '../vm/command-handler.js';
import { ScriptedHandler } from '../../test/fixtures/ssh-scripted-handler.js';
import { EventEngine } from '../engine/event-engine.js';
import { SshTransport } from './ssh-transport.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function target(address: () => string): ExecutorTarget {
  return {
    address,
    remoteUser: () => 'root',
    verifyHostKey: async (_key, run) => {
      if ((await run('cat /var/run/arvados-instance-secret')).stdout.toString() !== 'secret') throw new Error('bad instance secret');
    },
  };
}

describe('SshTransport on the virtual clock', () => {
  it('completes each command at the virtual instant it started', async () => {
    const engine = new EventEngine();
    const transport = new SshTransport({ clock: engine, hold: () => engine.hold() });
    cleanups.push(() => transport.close());
    const handler = new ScriptedHandler('secret');
    const seen: string[] = [];
    engine.setTimer(0, () => {
      void transport.startVm('vm-1', handler).then((server) => {
        const ex = transport.executorFactory()(target(() => server.address));
        cleanups.push(() => ex.close());
        engine.setTimer(1_000, () => {
          void ex.execute('crunch-run --list').then((r) => seen.push(`${engine.now()} ${r.stdout.toString().trim()}`));
        });
      });
    });
    engine.setTimer(1_001, () => seen.push(`${engine.now()} next timer`));
    await engine.run();
    expect(seen).toEqual(['1000 zzzzz-dz642-000000000000001', '1001 next timer']);
  });

  it('fails fast, without stalling the clock, once the VM is gone', async () => {
    const engine = new EventEngine();
    const transport = new SshTransport({ clock: engine, hold: () => engine.hold(), hostKeys: 'shared' });
    cleanups.push(() => transport.close());
    const server = await transport.startVm('vm-1', new ScriptedHandler('secret'));
    const address = server.address;
    const ex = transport.executorFactory()(target(() => address));
    cleanups.push(() => ex.close());
    const outcomes: unknown[] = [];
    engine.setTimer(10, () => {
      void ex.execute('echo up').then((r) => outcomes.push(r.stdout.toString()));
    });
    engine.setTimer(20, () => {
      void transport.stopVm('vm-1');
    });
    for (const t of [30, 40]) {
      engine.setTimer(t, () => {
        void ex.execute('echo down').catch((e: unknown) => outcomes.push(e instanceof TransientError));
      });
    }
    await engine.run();
    expect(outcomes).toEqual(['up\n', true, true]);
  });

  it('lets virtual time run while the VM works on a command, and holds it while bytes travel', async () => {
    const engine = new EventEngine();
    const transport = new SshTransport({ clock: engine, hold: () => engine.hold() });
    cleanups.push(() => transport.close());
    const inner = new ScriptedHandler('secret');
    cleanups.push(() => inner.dispose());
    // Like the simulated VM: every command takes virtual time.
    const slow: CommandHandler = {
      async run(command, stdin) {
        await engine.sleep(command === 'sleep 30' ? 10_000 : 5);
        return inner.run(command === 'sleep 30' ? 'echo late' : command, stdin);
      },
    };
    const server = await transport.startVm('vm-1', slow);
    const ex = transport.executorFactory()(target(() => server.address));
    cleanups.push(() => ex.close());
    const seen: string[] = [];
    engine.setTimer(1_000, () => {
      // Host-key check (5 ms) then the command (5 ms).
      void ex.execute('echo first').then((r) => seen.push(`${engine.now()} ${r.stdout.toString().trim()}`));
    });
    engine.setTimer(1_007, () => seen.push(`${engine.now()} timer`));
    engine.setTimer(2_000, () => {
      void ex.execute('sleep 30', { timeoutMs: 1_000 }).catch((e: unknown) => seen.push(`${engine.now()} ${e instanceof TimeoutError ? 'timeout' : String(e)}`));
    });
    engine.setTimer(4_000, () => {
      void ex.execute('echo after').then((r) => seen.push(`${engine.now()} ${r.stdout.toString().trim()}`));
    });
    const result = await engine.run();
    expect(result.reason).toBe('idle');
    expect(seen).toEqual(['1007 timer', '1010 first', '3000 timeout', '4005 after']);
  });
});
