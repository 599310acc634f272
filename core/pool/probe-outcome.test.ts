import { describe, it, expect } from 'vitest';
import { CommandError } from '../ports/errors.js';
import type { ExecOptions, ExecResult, Executor } from '../ports/executor.js';
import { nullLogger } from '../ports/logger.js';

import { FakeCloud, md5hex } from '../../test/fakes/pool-fake-cloud.js';
import { clusterConfig, instanceType, RUNNER_BINARY, containerUuid, virtualClock } from '../../test/fakes/pool-harness.js';
import { HostVerifier } from './host-verifier.js';
import type { WorkerState } from './pool-api.js';
import { RemoteRunner } from './runner.js';
import { Worker, type WorkerHost } from './worker.js';

/** Go's stubExecutor: answers keyed by command; unknown commands fail. */
class StubExecutor implements Executor {
  readonly calls: { command: string; stdin?: Buffer }[] = [];
  constructor(private readonly answers: Map<string, { exit: number; stdout?: string }>) {}
  execute(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ command, stdin: opts.stdin });
    const key = command.includes('; cat >"$dstfile"') ? 'deploy' : command;
    const a = this.answers.get(key) ?? { exit: 2 };
    const out = { stdout: Buffer.from(a.stdout ?? ''), stderr: Buffer.alloc(0) };
    return a.exit === 0 ? Promise.resolve(out) : Promise.reject(new CommandError(`running ${command}: exit ${a.exit}`, a.exit, out.stdout, out.stderr));
  }
  setTarget(): void {}
  close(): void {}
}

interface Row {
  readonly name: string;
  readonly state: WorkerState;
  readonly age?: 'pastBoot' | 'pastProbe';
  readonly boot?: boolean;
  /** --list answer: undefined = fails, else number of containers listed. */
  readonly list?: number;
  readonly known?: number;
  readonly starting?: number;
  /** Runner deployment: undefined = no runner data. */
  readonly deploy?: 'ok' | 'fail';
  readonly expect: WorkerState;
  readonly running: number;
}

// Reference: Arvados worker_test.go TestProbeAndUpdate, row by row (bootTimeout 1m, probeTimeout 1s).
const ROWS: Row[] = [
  { name: '1 unknown, both probes fail', state: 'unknown', expect: 'unknown', running: 0 },
  { name: '2 unknown, boot fails, run probe lists 1 container', state: 'unknown', list: 1, expect: 'unknown', running: 1 },
  { name: '3 unknown, boot fails, a known container is no longer listed', state: 'unknown', list: 0, known: 1, expect: 'unknown', running: 0 },
  { name: '4 unknown, past the boot timeout, both probes fail', state: 'unknown', age: 'pastBoot', expect: 'shutdown', running: 0 },
  { name: '5 unknown, past the boot timeout, boot OK, --list fails', state: 'unknown', age: 'pastBoot', boot: true, expect: 'shutdown', running: 0 },
  { name: '6 unknown, past the boot timeout, boot fails, --list OK and empty', state: 'unknown', age: 'pastBoot', list: 0, expect: 'shutdown', running: 0 },
  { name: '7 unknown, past the boot timeout, boot fails, a container is listed', state: 'unknown', age: 'pastBoot', list: 1, expect: 'unknown', running: 1 },
  { name: '8 unknown, boot fails, deploy OK, deployed --list shows a container', state: 'unknown', deploy: 'ok', list: 1, expect: 'unknown', running: 1 },
  { name: '9 as 8, past the boot timeout', state: 'unknown', age: 'pastBoot', deploy: 'ok', list: 1, expect: 'unknown', running: 1 },
  { name: '10 as 8 with nothing listed, past the boot timeout', state: 'unknown', age: 'pastBoot', deploy: 'ok', list: 0, expect: 'shutdown', running: 0 },
  { name: '11 booting, boot fails, run fails', state: 'booting', expect: 'booting', running: 0 },
  { name: '12 booting, boot fails (run probe not called)', state: 'booting', list: 0, expect: 'booting', running: 0 },
  { name: '13 booting, boot OK, run fails', state: 'booting', boot: true, expect: 'booting', running: 0 },
  { name: '14 booting, both OK', state: 'booting', boot: true, list: 0, expect: 'idle', running: 0 },
  { name: '15 booting, both OK, 1 container listed', state: 'booting', boot: true, list: 1, expect: 'running', running: 1 },
  { name: '16 booting, past the boot timeout, run fails', state: 'booting', age: 'pastBoot', boot: true, expect: 'shutdown', running: 0 },
  { name: '17 idle, past the probe timeout, probe OK with 1 container', state: 'idle', age: 'pastProbe', list: 1, expect: 'running', running: 1 },
  { name: '18 idle, past the probe timeout, 1 known container, probe fails', state: 'idle', age: 'pastProbe', known: 1, expect: 'shutdown', running: 1 },
  { name: '19 idle, past the probe timeout, probe fails, nothing running', state: 'idle', age: 'pastProbe', expect: 'shutdown', running: 0 },
  { name: '20 running, container still listed', state: 'running', known: 1, list: 1, expect: 'running', running: 1 },
  { name: '21 running, container gone', state: 'running', known: 1, list: 0, expect: 'idle', running: 0 },
  { name: '22 running, past the probe timeout, nothing listed, 1 in starting', state: 'running', age: 'pastProbe', list: 0, starting: 1, expect: 'running', running: 0 },
  { name: '23 booting, deploy OK, deployed --list shows a container', state: 'booting', boot: true, deploy: 'ok', list: 1, expect: 'running', running: 1 },
  { name: '24 booting, boot OK, deploy fails', state: 'booting', boot: true, deploy: 'fail', list: 0, expect: 'booting', running: 0 },
  { name: '25 booting, no runner data (deploy skipped), run OK', state: 'booting', boot: true, list: 0, expect: 'idle', running: 0 },
];

async function trial(row: Row): Promise<{ w: Worker; exec: StubExecutor; destroyed: string[] }> {
  const engine = virtualClock(10_000_000);
  const t = instanceType('type1');
  const config = clusterConfig([t], { TimeoutBooting: 60_000, TimeoutProbe: 1_000, BootProbeCommand: 'bootprobe' });
  const md5 = md5hex(RUNNER_BINARY);
  const runner = row.deploy === undefined ? null : { command: `/tmp/arvados-crunch-run/crunch-run~${md5}`, md5, binary: RUNNER_BINARY };
  const runnerCmd = runner?.command ?? 'crunch-run';
  const listed = Array.from({ length: row.list ?? 0 }, (_, i) => containerUuid(900 + i));
  const answers = new Map<string, { exit: number; stdout?: string }>();
  answers.set('bootprobe', { exit: row.boot ? 0 : 1 });
  if (row.list !== undefined) answers.set(`${runnerCmd} --list`, { exit: 0, stdout: listed.map((u) => `${u}\n`).join('') });
  if (row.deploy !== undefined) answers.set('deploy', { exit: row.deploy === 'ok' ? 0 : 1 });
  const exec = new StubExecutor(answers);
  const cloud = new FakeCloud(engine);
  const vm = cloud.addVm('type1', {});
  const inst = (await cloud.instances(null))[0]!;
  const seq = { n: 0 };
  const host: WorkerHost = {
    clock: engine,
    config,
    runner,
    crunchRunArgs: ['--runtime-engine=docker'],
    commandTimeoutMs: 60_000,
    deployTimeoutMs: 60_000,
    stopped: () => false,
    configData: () => Buffer.from('{}'),
    notify: () => {},
    nextSeq: () => ++seq.n,
    stateChanged: () => {},
    runnerAdded: () => {},
    runnerRemoved: () => {},
    bootOutcome: () => {},
    runProbeObserved: () => {},
    readyObserved: () => {},
    startObserved: () => {},
    saveTags: () => {},
  };
  const target = new HostVerifier(inst, '', 'cat /var/run/arvados-instance-secret', () => {});
  const w = new Worker(host, inst, t, row.state, 'run', '', exec, target, nullLogger);
  const now = engine.now();
  if (row.age === 'pastBoot') w.appeared = w.probed = w.busy = now - 61_000;
  if (row.age === 'pastProbe') w.probed = now - 2_000;
  // "Known" containers are the ones the list would show first, so rows 20/21 line up.
  for (let i = 0; i < (row.known ?? 0); i++) w.running.set(containerUuid(900 + i), new RemoteRunner(w, containerUuid(900 + i)));
  for (let i = 0; i < (row.starting ?? 0); i++) w.starting.set(containerUuid(950 + i), new RemoteRunner(w, containerUuid(950 + i)));
  await w.probeAndUpdate();
  return { w, exec, destroyed: vm.alive ? [] : [vm.id] };
}

describe('TestProbeAndUpdate (probe-outcome table)', () => {
  for (const row of ROWS) {
    it(row.name, async () => {
      const { w, exec } = await trial(row);
      expect(w.state).toBe(row.expect);
      expect(w.running.size).toBe(row.running);
      if (row.name.startsWith('12 ')) expect(exec.calls.map((c) => c.command)).not.toContain('crunch-run --list');
      if (row.deploy === 'ok') {
        const deploy = exec.calls.find((c) => c.command.includes('cat >"$dstfile"'));
        expect(deploy?.stdin).toEqual(RUNNER_BINARY);
      }
    });
  }
});
