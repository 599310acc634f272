import type { ParsedKey } from 'ssh2';
import type { Executor } from '../core/ports/executor.js';
import type { ExecutorTarget } from '../core/ports/instance-set.js';
import { SshExecutor } from '../prod/ssh/ssh-executor.js';
import { SystemClock } from '../prod/system-clock.js';
import { generateEd25519KeyPair } from '../sim/ssh/host-keys.js';
import { startVmSshServer, type VmSshServer } from '../sim/ssh/vm-ssh-server.js';
import type { CommandHandler } from '../sim/vm/command-handler.js';
import { measure, perSecond, type Benchmark, type BenchRow } from './benchmark.js';

/** Commands sent per case, spread evenly over the VMs. */
const COMMANDS = 3_000;
/** Commands each VM has in flight at once (the pool probes and starts containers concurrently). */
const IN_FLIGHT_PER_VM = 4;

/** Answers like a VM's crunch-run --list with one container: the bench measures transport, not the model. */
const handler: CommandHandler = {
  run: () =>
    Promise.resolve({ exitCode: 0, stdout: Buffer.from('zzzzz-dz642-000000000000001\n'), stderr: Buffer.alloc(0) }),
};

/**
 * `vms` simulated VMs, each with its own host key and SSH server on loopback, each driven by
 * its own SshExecutor (as the pool would), all in this one process: the figure is what one
 * core sustains for both ends of the connection.
 */
async function commandsPerSecond(vms: number, inFlight = IN_FLIGHT_PER_VM): Promise<BenchRow> {
  const clock = new SystemClock();
  const dispatch = generateEd25519KeyPair().parsed;
  const servers: VmSshServer[] = [];
  const executors: Executor[] = [];
  try {
    let hostKeys: ParsedKey[] = [];
    const keygenMs = await measure(() => {
      hostKeys = Array.from({ length: vms }, () => generateEd25519KeyPair().parsed);
    });
    const listenMs = await measure(async () => {
      for (const hostKey of hostKeys) servers.push(await startVmSshServer({ hostKey, authorizedKeys: [dispatch], handler }));
    });
    for (const s of servers) {
      const target: ExecutorTarget = {
        address: () => s.address,
        remoteUser: () => 'root',
        // As the pool does: check the instance secret over the new connection.
        verifyHostKey: async (_key, run) => {
          await run('cat /var/run/arvados-instance-secret');
        },
      };
      executors.push(new SshExecutor(target, { signers: [dispatch], clock, commandTimeoutMs: 60_000 }));
    }
    // First command per VM: TCP, key exchange, authentication, host-key check, command.
    const connectMs = await measure(() => Promise.all(executors.map((ex) => ex.execute('true'))));
    const perVm = Math.ceil(COMMANDS / vms);
    const runMs = await measure(() =>
      Promise.all(
        executors.map(async (ex) => {
          let left = perVm;
          const loop = async () => {
            while (left > 0) {
              left--;
              await ex.execute('crunch-run --list');
            }
          };
          await Promise.all(Array.from({ length: Math.min(inFlight, perVm) }, loop));
        }),
      ),
    );
    return {
      case: `${vms} VM${vms === 1 ? '' : 's'} x ${inFlight} in flight, ${perVm * vms} commands`,
      figures: {
        'commands/s': perSecond(perVm * vms, runMs),
        // Each loop runs its commands back to back: its time per command is the latency.
        'mean latency ms': (runMs * Math.min(inFlight, perVm)) / perVm,
        'connect ms (all VMs)': connectMs,
        'host key ms/VM': keygenMs / vms,
        'listen ms/VM': listenMs / vms,
      },
    };
  } finally {
    for (const ex of executors) ex.close();
    await Promise.all(servers.map((s) => s.close()));
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'ssh',
    description: 'commands/s through the SSH executor to in-process VM SSH servers (1, 10, 100 VMs; 1 VM sequential for latency)',
    async run() {
      // One command at a time on one VM: the round-trip latency.
      const rows: BenchRow[] = [await commandsPerSecond(1, 1)];
      for (const vms of [1, 10, 100]) rows.push(await commandsPerSecond(vms));
      return rows;
    },
  },
];
