import type { InstanceType } from '../../core/domain/instance-type.js';
import { HostVerifier } from '../../core/pool/host-verifier.js';
import { RemoteCommands } from '../../core/pool/remote-commands.js';
import { initCommand, tagKeys } from '../../core/pool/tags.js';
import type { Clock } from '../../core/ports/clock.js';
import { describeError, NotFoundError } from '../../core/ports/errors.js';
import type { Executor, ExecutorFactory } from '../../core/ports/executor.js';
import { tagMatcher, type Instance, type InstanceSet, type InstanceTags } from '../../core/ports/instance-set.js';

export interface CloudTestOptions {
  readonly instanceSet: InstanceSet;
  readonly newExecutor: ExecutorFactory;
  readonly clock: Clock;
  /** One progress line at a time (stderr in the CLI). */
  readonly log: (line: string) => void;
  readonly instanceSetId: string;
  readonly tagKeyPrefix: string;
  readonly resourceTags: InstanceTags;
  readonly type: InstanceType;
  readonly imageId: string;
  readonly instanceInitCommand: string;
  /** authorized_keys line when DeployPublicKey, else null. */
  readonly publicKey: string | null;
  /** Run verbatim, as Arvados' cloudtest does (an empty command is not replaced by `true`). */
  readonly bootProbeCommand: string;
  /** Optional command to run once the probe succeeds (`--command`). */
  readonly command?: string;
  readonly destroyExisting: boolean;
  /** 40 hex digits. */
  readonly secret: string;
  readonly pid: number;
  readonly syncIntervalMs: number;
  readonly probeIntervalMs: number;
  readonly timeoutBootingMs: number;
  /** How long to wait for a destroyed instance to stop being listed; Arvados waits forever. */
  readonly timeoutShutdownMs: number;
  /** SSH port shown in the copy-paste ssh line when the address has none. */
  readonly sshPort: string;
  /** Awaited between the checks and the destroy (`--pause-before-destroy`). */
  readonly pause?: () => Promise<void>;
}

export interface CloudTestResult {
  readonly ok: boolean;
  readonly failures: readonly string[];
  readonly instanceId: string | null;
}

/**
 * `vmdispatch cloudtest`: checks a cloud driver end to end, in Arvados' order
 * (lib/cloud/cloudtest/tester.go): no leftover instances of this instance set, create,
 * the instance appears in a listing with the expected tags, the boot probe succeeds over
 * SSH with the instance-secret host check, the optional command runs, and the instance is
 * destroyed and disappears. The instance is destroyed whatever failed before.
 */
export async function runCloudTest(o: CloudTestOptions): Promise<CloudTestResult> {
  const keys = tagKeys(o.tagKeyPrefix);
  const failures: string[] = [];
  const fail = (what: string): void => {
    failures.push(what);
    o.log(`FAILED: ${what}`);
  };
  const setFilter: InstanceTags = { [keys.instanceSetId]: o.instanceSetId };
  const list = async (filter: InstanceTags | null): Promise<readonly Instance[]> => {
    // The driver may return more than the filter asks for: filter again, as the dispatcher does.
    const all = await o.instanceSet.instances(filter);
    return filter === null ? all : all.filter((i) => tagMatcher(filter)(i.tags));
  };

  if (!(await checkNoLeftovers(o, list, setFilter, keys.instanceSetId, fail))) return { ok: false, failures, instanceId: null };

  const tags: InstanceTags = {
    ...o.resourceTags,
    [`${o.tagKeyPrefix}CloudTestPID`]: String(o.pid),
    [keys.instanceSetId]: o.instanceSetId,
    [keys.instanceSecret]: o.secret,
  };
  o.log(`creating instance: type ${o.type.name} (${o.type.providerType}), image ${o.imageId}`);
  const start = o.clock.now();
  let inst: Instance | null = null;
  let created: Instance | null = null;
  try {
    created = await o.instanceSet.create({ type: o.type, imageId: o.imageId, tags, initCommand: initCommand(o.secret, o.instanceInitCommand), publicKey: o.publicKey });
    o.log(`created instance ${created.id} in ${o.clock.now() - start} ms`);
  } catch (e) {
    fail(`creating instance: ${describeError(e)}`);
  }
  let executor: Executor | null = null;
  try {
    inst = await findInstance(o, list, setFilter, created, fail);
    if (inst === null) return { ok: false, failures, instanceId: created?.id ?? null };
    for (const [k, v] of Object.entries(tags)) {
      if (inst.tags[k] === v) continue;
      // The instance secret is never printed.
      const show = (x: string | undefined) => (k === keys.instanceSecret && x !== undefined ? '(the instance secret)' : JSON.stringify(x ?? null));
      fail(`instance ${inst.id}: tag ${k} is ${k === keys.instanceSecret ? (inst.tags[k] === undefined ? 'missing' : 'wrong') : show(inst.tags[k])}, expected ${show(v)}`);
    }
    if (failures.length === 0) o.log(`instance ${inst.id} has the expected tags`);
    const target = new HostVerifier(inst, o.secret, new RemoteCommands('crunch-run', inst.remoteUser()).catSecret(), () => {});
    executor = o.newExecutor(target);
    const booted = await probeUntilBooted(o, list, setFilter, inst, target, executor, fail);
    if (booted && o.command !== undefined && o.command !== '') {
      try {
        const out = await executor.execute(o.command);
        o.log(`command succeeded: stdout ${JSON.stringify(out.stdout.toString('utf8').slice(0, 2000))}`);
      } catch (e) {
        fail(`running command ${JSON.stringify(o.command)}: ${describeError(e)}`);
      }
    }
    if (o.pause !== undefined) await o.pause();
  } finally {
    executor?.close();
    if (inst !== null || created !== null) await destroyAndWait(o, list, setFilter, (inst ?? created) as Instance, fail);
  }
  o.log(failures.length === 0 ? 'all checks passed' : `${failures.length} check(s) failed`);
  return { ok: failures.length === 0, failures, instanceId: (inst ?? created)?.id ?? null };
}

type Lister = (filter: InstanceTags | null) => Promise<readonly Instance[]>;

async function checkNoLeftovers(o: CloudTestOptions, list: Lister, setFilter: InstanceTags, key: string, fail: (w: string) => void): Promise<boolean> {
  const deadline = o.clock.now() + o.timeoutShutdownMs;
  for (;;) {
    let all: readonly Instance[];
    try {
      all = await list(null);
    } catch (e) {
      fail(`listing instances: ${describeError(e)}`);
      return false;
    }
    const ours = all.filter((i) => i.tags[key] === setFilter[key]);
    o.log(`listed ${all.length} instances, ${ours.length} of instance set ${o.instanceSetId}`);
    if (ours.length === 0) return true;
    if (!o.destroyExisting) {
      fail(`instances of instance set ${o.instanceSetId} already exist (${ours.map((i) => i.id).join(', ')}); use --destroy-existing to destroy them`);
      return false;
    }
    if (o.clock.now() >= deadline) {
      fail(`destroying existing instances: still listed after ${o.timeoutShutdownMs} ms`);
      return false;
    }
    for (const i of ours) {
      o.log(`destroying existing instance ${i.id}`);
      await i.destroy().catch((e: unknown) => o.log(`destroying existing instance ${i.id}: ${describeError(e)}`));
    }
    await o.clock.sleep(o.syncIntervalMs);
  }
}

/** After a create: the next listing must show the instance. After a failed create: poll until TimeoutBooting, in case it worked. */
async function findInstance(o: CloudTestOptions, list: Lister, setFilter: InstanceTags, created: Instance | null, fail: (w: string) => void): Promise<Instance | null> {
  const deadline = o.clock.now() + o.timeoutBootingMs;
  for (;;) {
    try {
      const found = (await list(setFilter)).find((i) => created === null || i.id === created.id);
      if (found !== undefined) {
        o.log(`instance ${found.id} is listed${found.address() !== '' ? ` at ${found.address()}` : ''}`);
        return found;
      }
      if (created !== null) {
        fail(`instance ${created.id} was created but is missing from the next listing`);
        return null;
      }
    } catch (e) {
      o.log(`listing instances: ${describeError(e)}`);
      if (created !== null) return created;
    }
    if (o.clock.now() >= deadline) {
      o.log('no instance appeared before TimeoutBooting');
      return null;
    }
    await o.clock.sleep(o.syncIntervalMs);
  }
}

async function probeUntilBooted(
  o: CloudTestOptions,
  list: Lister,
  setFilter: InstanceTags,
  inst: Instance,
  target: HostVerifier,
  executor: Executor,
  fail: (w: string) => void,
): Promise<boolean> {
  const deadline = o.clock.now() + o.timeoutBootingMs;
  let shown = false;
  let lastErr = '';
  for (;;) {
    if (target.address() === '') {
      // Addresses arrive with a later listing.
      const again = (await list(setFilter).catch(() => [])).find((i) => i.id === inst.id);
      if (again !== undefined) target.update(again);
    }
    const address = target.address();
    if (address !== '' && !shown) {
      shown = true;
      const [host, port] = address.includes(':') ? address.split(':') : [address, o.sshPort];
      o.log(`to log in: ssh -p${port ?? o.sshPort} ${target.remoteUser()}@${host ?? address}`);
    }
    if (address !== '') {
      try {
        executor.setTarget(target);
        await executor.execute(o.bootProbeCommand, { timeoutMs: Math.max(1000, o.probeIntervalMs * 10) });
        o.log(`boot probe succeeded: ${JSON.stringify(o.bootProbeCommand)}`);
        return true;
      } catch (e) {
        const msg = describeError(e);
        if (msg !== lastErr) o.log(`boot probe failed: ${msg}`);
        lastErr = msg;
      }
    }
    if (o.clock.now() >= deadline) {
      fail(`boot probe: no success within TimeoutBooting (${o.timeoutBootingMs} ms)${lastErr !== '' ? `; last error: ${lastErr}` : ''}`);
      return false;
    }
    await o.clock.sleep(o.probeIntervalMs);
  }
}

async function destroyAndWait(o: CloudTestOptions, list: Lister, setFilter: InstanceTags, inst: Instance, fail: (w: string) => void): Promise<void> {
  const deadline = o.clock.now() + o.timeoutShutdownMs;
  let destroyed = false;
  for (;;) {
    if (!destroyed) {
      try {
        await inst.destroy();
        destroyed = true;
        o.log(`destroy of ${inst.id} accepted`);
      } catch (e) {
        // Already gone counts as destroyed; anything else is retried.
        if (e instanceof NotFoundError) destroyed = true;
        o.log(`destroying instance ${inst.id}: ${describeError(e)}`);
      }
    }
    if (destroyed) {
      const still = await list(setFilter).then(
        (l) => l.some((i) => i.id === inst.id),
        () => true,
      );
      if (!still) {
        o.log(`instance ${inst.id} is gone`);
        return;
      }
    }
    if (o.clock.now() >= deadline) {
      fail(`destroying instance ${inst.id}: still listed after ${o.timeoutShutdownMs} ms`);
      return;
    }
    await o.clock.sleep(o.syncIntervalMs);
  }
}
