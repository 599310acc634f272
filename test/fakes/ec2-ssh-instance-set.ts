import type { ParsedKey } from 'ssh2';
import type { InstanceType } from '../../core/domain/instance-type.js';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { NotFoundError, NotImplementedError } from '../../core/ports/errors.js';
import { tagMatcher, type CreateRequest, type Instance, type InstancePrice, type InstanceSet, type InstanceTags } from '../../core/ports/instance-set.js';
import { SystemClock } from '../../prod/system-clock.js';
import { generateEd25519KeyPair } from '../../sim/ssh/host-keys.js';
import { startVmSshServer, type VmSshServer } from '../../sim/ssh/vm-ssh-server.js';
import { RecordingCrunchRunWorld } from '../../sim/vm/crunch-run-world.js';
import { NO_HOOKS, SimulatedVm } from '../../sim/vm/simulated-vm.js';

interface Live {
  readonly id: string;
  readonly type: InstanceType;
  tags: Record<string, string>;
  readonly vm: SimulatedVm;
  readonly server: VmSshServer;
}

/**
 * A real-time cloud whose instances are simulated VMs behind real SSH servers on
 * 127.0.0.1 (address `127.0.0.1:PORT`), booted at once. For end-to-end tests of production
 * code that reaches instances over SSH (cloudtest), without the event engine.
 */
export class SshLoopbackInstanceSet implements InstanceSet {
  private readonly live = new Map<string, Live>();
  private next = 0;
  private readonly clock = new SystemClock();

  constructor(private readonly authorizedKeys: readonly ParsedKey[]) {}

  async create(req: CreateRequest): Promise<Instance> {
    const id = `i-${(++this.next).toString(16).padStart(17, '0')}`;
    const clock = this.clock;
    const vm = new SimulatedVm({
      instanceId: id,
      type: req.type,
      initCommand: req.initCommand,
      publicKey: req.publicKey,
      remoteUser: 'crunch',
      broken: false,
      rng: new SeededRng(id),
      hooks: NO_HOOKS,
      clock,
      world: new RecordingCrunchRunWorld(() => clock.now()),
      behavior: { commandLatencyMs: 0 },
    });
    await vm.boot();
    const server = await startVmSshServer({ hostKey: generateEd25519KeyPair().parsed, authorizedKeys: this.authorizedKeys, handler: vm });
    const rec: Live = { id, type: req.type, tags: { ...req.tags }, vm, server };
    this.live.set(id, rec);
    return this.view(rec);
  }

  instances(filter: InstanceTags | null): Promise<readonly Instance[]> {
    const out = [...this.live.values()].filter((r) => filter === null || tagMatcher(filter)(r.tags));
    return Promise.resolve(out.map((r) => this.view(r)));
  }

  instanceQuotaGroup(type: InstanceType): string {
    return type.preemptible ? 'spot' : 'on-demand';
  }

  stop(): void {}

  /** Stops every SSH server. */
  async close(): Promise<void> {
    await Promise.all([...this.live.values()].map((r) => r.server.close()));
    this.live.clear();
  }

  private view(r: Live): Instance {
    const live = this.live;
    return {
      id: r.id,
      providerType: r.type.providerType,
      tags: Object.freeze({ ...r.tags }),
      address: () => r.server.address,
      remoteUser: () => 'crunch',
      verifyHostKey: () => Promise.reject(new NotImplementedError('verifying host key: no mechanism')),
      setTags(tags: InstanceTags): Promise<void> {
        if (!live.has(r.id)) return Promise.reject(new NotFoundError(`tagging ${r.id}: gone`));
        r.tags = { ...tags };
        return Promise.resolve();
      },
      async destroy(): Promise<void> {
        if (!live.delete(r.id)) throw new NotFoundError(`destroying ${r.id}: gone`);
        r.vm.halt('destroyed');
        await r.server.close();
      },
      priceHistory: (): readonly InstancePrice[] => [],
    };
  }
}
