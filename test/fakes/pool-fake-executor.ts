import type { Clock } from '../../core/ports/clock.js';
import { CommandError, HostKeyError, NoAddressError, TransientError, describeError } from '../../core/ports/errors.js';
import type { ExecOptions, ExecResult, Executor, ExecutorFactory } from '../../core/ports/executor.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';
import { type FakeCloud, type FakeVm, md5hex } from './pool-fake-cloud.js';

/** A scripted answer: exit code and output, or `hang` (never answers, never acts). */
export type ScriptedOutcome = { readonly exit: number; readonly stdout?: string; readonly stderr?: string } | 'hang';

interface Rule {
  readonly match: (command: string, vm: FakeVm) => boolean;
  readonly outcome: ScriptedOutcome;
  times: number;
}

export interface ExecRecord {
  readonly vm: string;
  readonly command: string;
  readonly stdin: Buffer | undefined;
  readonly at: number;
}

/**
 * The fake VMs' shell, shared by every FakeExecutor of one test: it answers the pool's
 * commands from FakeVm state (boot probe, md5sum, runner install, crunch-run --list /
 * --detach / --kill, reading the instance secret), records each command, and lets a test
 * script the next answers (`when`) including hangs. It also checks, across all VMs, that no
 * container is started while another crunch-run of it is alive.
 */
export class FakeShell {
  readonly log: ExecRecord[] = [];
  readonly hostKeyChecks: { vm: string; ok: boolean; error?: string }[] = [];
  /** uuids started while alive elsewhere: must stay empty. */
  readonly doubleStarts: string[] = [];
  /** Commands run on VMs marked foreign: must stay empty. */
  readonly foreignCommands: string[] = [];
  private readonly rules: Rule[] = [];
  /** Default runtime of a started container (ms); Infinity = until killed. */
  containerRuntimeMs = Infinity;

  constructor(
    readonly cloud: FakeCloud,
    readonly clock: Clock,
    readonly bootProbeCommand = 'systemctl is-system-running',
  ) {}

  /** Script the next `times` commands matching `match` (substring or predicate). */
  when(match: string | RegExp | ((command: string, vm: FakeVm) => boolean), outcome: ScriptedOutcome, times = 1): void {
    const m = typeof match === 'string' ? (c: string) => c.includes(match) : match instanceof RegExp ? (c: string) => match.test(c) : match;
    this.rules.push({ match: m, outcome, times });
  }

  /** An ExecutorFactory for the pool. */
  factory(): ExecutorFactory {
    return (target) => new FakeExecutor(this, target);
  }

  commands(vm?: string): string[] {
    return this.log.filter((r) => vm === undefined || r.vm === vm).map((r) => r.command);
  }

  /** Run a command on a VM: scripted answers first, else the VM's behaviour. */
  async run(vm: FakeVm, command: string, stdin: Buffer | undefined): Promise<ExecResult> {
    this.log.push({ vm: vm.id, command, stdin, at: this.clock.now() });
    if (vm.foreign) this.foreignCommands.push(`${vm.id}: ${command}`);
    const rule = this.rules.find((r) => r.times > 0 && r.match(command, vm));
    if (rule !== undefined) {
      rule.times--;
      if (rule.outcome === 'hang') return new Promise<ExecResult>(() => {});
      return result(command, rule.outcome.exit, rule.outcome.stdout ?? '', rule.outcome.stderr ?? '');
    }
    const { exit, stdout, stderr } = this.behave(vm, command, stdin);
    return result(command, exit, stdout ?? '', stderr ?? '');
  }

  private behave(vm: FakeVm, command: string, stdin: Buffer | undefined): { exit: number; stdout?: string; stderr?: string } {
    const now = this.clock.now();
    const cmd = command.replace(/^sudo /, '');
    if (command === this.bootProbeCommand || command === 'true') return { exit: now >= vm.bootAt ? 0 : 1, stderr: now >= vm.bootAt ? '' : 'starting' };
    if (now < vm.bootAt) return { exit: 255, stderr: 'ssh: connection refused' };
    if (cmd === 'cat /var/run/arvados-instance-secret') return vm.secretFile === '' ? { exit: 1, stderr: 'No such file' } : { exit: 0, stdout: vm.secretFile };
    let m = /^md5sum (\S+)$/.exec(cmd);
    if (m !== null) return vm.runnerMd5 === null ? { exit: 1, stderr: 'No such file or directory' } : { exit: 0, stdout: `${vm.runnerMd5}  ${m[1]}\n` };
    if (command.includes('cat >"$dstfile"')) {
      vm.runnerMd5 = md5hex(stdin ?? Buffer.alloc(0));
      return { exit: 0 };
    }
    if (!vm.crunchRunInstalled && vm.runnerMd5 === null) return { exit: 127, stderr: 'crunch-run: not found' };
    if (/ --list( --stdin-prices)?$/.test(cmd)) {
      this.reap(vm);
      const lines: string[] = [];
      if (vm.broken) lines.push('broken');
      for (const uuid of vm.processes.keys()) lines.push(uuid);
      for (const uuid of vm.staleLocks) lines.push(`${uuid} stale`);
      return { exit: 0, stdout: lines.map((l) => `${l}\n`).join('') };
    }
    m = / --detach --stdin-config .*'([a-z0-9-]+)'$/.exec(cmd);
    if (m !== null) {
      const uuid = m[1]!;
      this.reap(vm);
      if (vm.processes.has(uuid) || vm.staleLocks.has(uuid)) return { exit: 1, stderr: `lock: resource temporarily unavailable` };
      for (const other of this.cloud.liveVms()) {
        this.reap(other);
        if (other.processes.has(uuid)) this.doubleStarts.push(`${uuid} on ${vm.id} while alive on ${other.id}`);
      }
      vm.processes.set(uuid, { endAt: now + this.containerRuntimeMs, unkillable: false });
      return { exit: 0, stdout: `{"UUID":"${uuid}","PID":1234}\n` };
    }
    m = / --kill (\d+) (\S+)$/.exec(cmd);
    if (m !== null) {
      const p = vm.processes.get(m[2]!);
      if (p === undefined) return { exit: 0 };
      if (p.unkillable) return { exit: 1, stderr: 'sent signal 15 but process is still alive' };
      vm.processes.delete(m[2]!);
      return { exit: 0 };
    }
    return { exit: 127, stderr: `fake shell: unknown command: ${command}` };
  }

  /** Processes whose run time is over exit. */
  private reap(vm: FakeVm): void {
    const now = this.clock.now();
    for (const [uuid, p] of vm.processes) if (p.endAt <= now) vm.processes.delete(uuid);
  }
}

function result(command: string, exit: number, stdout: string, stderr: string): Promise<ExecResult> {
  const out = { stdout: Buffer.from(stdout), stderr: Buffer.from(stderr) };
  if (exit === 0) return Promise.resolve(out);
  return Promise.reject(new CommandError(`running ${command.slice(0, 60)}: exit ${exit}`, exit, out.stdout, out.stderr));
}

/**
 * An Executor on the FakeShell, behaving like the SSH executor where the pool can tell:
 * NoAddressError without an address, connection errors for dead VMs, host-key
 * verification through the target on first connect and whenever the key changes.
 */
export class FakeExecutor implements Executor {
  private verifiedKey: Buffer | null = null;
  private closed = false;

  constructor(
    private readonly shell: FakeShell,
    private target: ExecutorTarget,
  ) {}

  setTarget(target: ExecutorTarget): void {
    this.target = target;
  }

  close(): void {
    this.closed = true;
    this.verifiedKey = null;
  }

  async execute(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const address = this.target.address();
    if (address === '') throw new NoAddressError('connecting: instance has no address yet');
    const vm = this.shell.cloud.vmByAddress(address);
    if (vm === undefined || !vm.alive) throw new TransientError(`connecting to ${address}: connection refused`);
    if (this.shell.clock.now() < vm.bootAt) throw new TransientError(`connecting to ${address}: sshd not up yet`);
    if (this.verifiedKey === null || !this.verifiedKey.equals(vm.hostKey)) {
      try {
        await this.target.verifyHostKey(vm.hostKey, (c) => this.shell.run(vm, c, undefined));
        this.shell.hostKeyChecks.push({ vm: vm.id, ok: true });
        this.verifiedKey = vm.hostKey;
      } catch (e) {
        this.shell.hostKeyChecks.push({ vm: vm.id, ok: false, error: describeError(e) });
        throw e instanceof HostKeyError ? e : new HostKeyError(`connecting to ${address}: ${describeError(e)}`, { cause: e });
      }
    }
    this.closed = false;
    return this.shell.run(vm, command, opts.stdin);
  }
}
