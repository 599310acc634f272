import type { Logger } from '../../core/ports/logger.js';
import { nullLogger } from '../../core/ports/logger.js';
import { SshTransport } from '../ssh/ssh-transport.js';
import type { SimulatedVm } from '../vm/simulated-vm.js';
import type { Transport } from './run-scenario.js';

/**
 * The `ssh` transport of `vmdispatch sim`: every simulated VM gets an SSH server on
 * loopback (its own host key; only the dispatcher's key is accepted), the instance's
 * address becomes that server's, and the pool talks to it with the production
 * SshExecutor, unchanged. The engine is held while bytes are on the wire and runs while a
 * VM works on a command (sim/ssh/ssh-transport.ts). Slower than `direct`; for fidelity
 * checks on small scenarios.
 */
export function sshTransport(logger: Logger = nullLogger): Transport {
  let transport: SshTransport | null = null;
  let setAddress: ((id: string, address: string) => void) | null = null;
  const starting = new Set<Promise<void>>();
  return {
    name: 'ssh',
    setUp({ engine, cloud }) {
      setAddress = (id, address) => cloud.setAddress(id, address);
      const t = new SshTransport({ clock: engine, hold: () => engine.hold(), logger });
      transport = t;
      return Promise.resolve({
        newExecutor: t.executorFactory(),
        close: async () => {
          await Promise.all(starting);
          await t.close();
        },
      });
    },
    onVm(vm: SimulatedVm) {
      const t = transport;
      if (t === null) throw new Error('ssh transport: a VM was created before setUp');
      const id = vm.instanceId;
      // startVm holds the clock from its first line, so no command can reach the VM
      // before its address is the server's.
      const started = t
        .startVm(id, vm)
        .then((server) => {
          setAddress?.(id, server.address);
          vm.onHalt(() => void t.stopVm(id));
        })
        .catch((e: unknown) => logger.error('starting a simulated VM SSH server failed', { instanceId: id, error: (e as Error).message }))
        .finally(() => starting.delete(started));
      starting.add(started);
    },
  };
}
