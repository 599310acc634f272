import { describe, it, expect } from 'vitest';
import { virtualClock } from '../../test/fakes/pool-harness.js';

import { FakeCloud } from '../../test/fakes/pool-fake-cloud.js';
import { FakeShell } from '../../test/fakes/pool-fake-executor.js';
import { HostKeyError } from '../ports/errors.js';
import { HostVerifier } from './host-verifier.js';

const SECRET = 'a'.repeat(40);

async function setup(secretOnVm: string, tagSecret: string) {
  const engine = virtualClock();
  const cloud = new FakeCloud(engine, { remoteUser: 'admin' });
  const vm = cloud.addVm('t', {}, { secret: secretOnVm });
  const inst = (await cloud.instances(null))[0]!;
  const shell = new FakeShell(cloud, engine);
  const target = new HostVerifier(inst, tagSecret, 'sudo cat /var/run/arvados-instance-secret', () => {});
  return { vm, shell, exec: shell.factory()(target) };
}

describe('host verification', () => {
  it('accepts the key when the VM proves it holds the tagged secret, and only then runs the command', async () => {
    const { shell, exec } = await setup(SECRET, SECRET);
    await exec.execute('true');
    expect(shell.commands()).toEqual(['sudo cat /var/run/arvados-instance-secret', 'true']);
    await exec.execute('true');
    expect(shell.hostKeyChecks).toHaveLength(1);
  });

  it('refuses a VM with a wrong or missing secret: no command runs', async () => {
    for (const [onVm, tag] of [['b'.repeat(40), SECRET], [`${SECRET}\n`, SECRET], ['', SECRET], [SECRET, '']]) {
      const { shell, exec } = await setup(onVm!, tag!);
      await expect(exec.execute('true')).rejects.toBeInstanceOf(HostKeyError);
      expect(shell.commands()).not.toContain('true');
    }
  });

  it('verifies again when the host key changes', async () => {
    const { vm, shell, exec } = await setup(SECRET, SECRET);
    await exec.execute('true');
    vm.hostKey = Buffer.from('a new key');
    await exec.execute('true');
    expect(shell.hostKeyChecks.filter((c) => c.ok)).toHaveLength(2);
    vm.secretFile = 'c'.repeat(40);
    vm.hostKey = Buffer.from('an impostor');
    await expect(exec.execute('true')).rejects.toBeInstanceOf(HostKeyError);
  });

  it("uses the driver's check when it has one, and never reads the secret then", async () => {
    const { vm, shell, exec } = await setup('', SECRET);
    vm.driverVerifies = (k) => k.equals(vm.hostKey);
    await exec.execute('true');
    expect(shell.commands()).toEqual(['true']);
    vm.driverVerifies = () => false;
    vm.hostKey = Buffer.from('other');
    await expect(exec.execute('true')).rejects.toBeInstanceOf(HostKeyError);
  });
});
