import { describe, it, expect } from 'vitest';
import { parseListOutput, RemoteCommands, shellWord } from './remote-commands.js';
import { initCommand, newInstanceSecret, tagKeys } from './tags.js';
import { SeededRng } from '../domain/seeded-rng.js';

const UUID = 'zzzzz-dz642-000000000000001';

describe('remote commands', () => {
  it('match the reference strings byte for byte for plain values', () => {
    const root = new RemoteCommands('crunch-run', 'root');
    const user = new RemoteCommands('/tmp/arvados-crunch-run/crunch-run~0123abcd', 'admin');
    expect(root.list(false)).toBe('crunch-run --list');
    expect(user.list(true)).toBe('sudo /tmp/arvados-crunch-run/crunch-run~0123abcd --list --stdin-prices');
    expect(root.kill(UUID, 15)).toBe(`crunch-run --kill 15 ${UUID}`);
    expect(root.detach(UUID, ['--runtime-engine=stub', '--foo', "--extra='args'"])).toBe(
      `crunch-run --detach --stdin-config '--runtime-engine=stub' '--foo' '--extra='\\''args'\\''' '${UUID}'`,
    );
    expect(user.md5sum()).toBe('md5sum /tmp/arvados-crunch-run/crunch-run~0123abcd');
    expect(root.install()).toBe(
      'set -e; dstdir="./"; dstfile="crunch-run"; mkdir -p "$dstdir"; touch "$dstfile"; chmod 0755 "$dstdir" "$dstfile"; cat >"$dstfile"',
    );
    expect(user.install()).toBe(
      `sudo sh -c 'set -e; dstdir="/tmp/arvados-crunch-run/"; dstfile="/tmp/arvados-crunch-run/crunch-run~0123abcd"; mkdir -p "$dstdir"; touch "$dstfile"; chmod 0755 "$dstdir" "$dstfile"; cat >"$dstfile"'`,
    );
    expect(user.catSecret()).toBe('sudo cat /var/run/arvados-instance-secret');
    expect(user.md5Matches('abc  /tmp/arvados-crunch-run/crunch-run~0123abcd\n', '', 'abc')).toBe(true);
    expect(user.md5Matches('abc  /tmp/arvados-crunch-run/crunch-run~0123abcd\n', 'warning', 'abc')).toBe(false);
  });

  it('refuses malformed container uuids before any shell sees them', () => {
    const c = new RemoteCommands('crunch-run', 'root');
    for (const bad of ["zzzzz-dz642-00000000000000'; rm -rf /", 'zzzzz-dz642-0000', 'zzzzz-xxxxx-000000000000001', '$(reboot)']) {
      expect(() => c.detach(bad, [])).toThrow(/refusing malformed container uuid/);
      expect(() => c.kill(bad, 15)).toThrow(/refusing malformed container uuid/);
    }
  });

  it('quotes any runner path that is not a plain word', () => {
    expect(shellWord('crunch-run')).toBe('crunch-run');
    expect(shellWord('/opt/my runner')).toBe("'/opt/my runner'");
    expect(shellWord('~/x')).toBe("'~/x'");
    expect(new RemoteCommands('/opt/$(x)/cr', 'root').list(false)).toBe("'/opt/$(x)/cr' --list");
    expect(new RemoteCommands('/opt/a"b/cr', 'root').install()).toContain('dstdir="/opt/a\\"b/"');
  });

  it('parses --list output: running, stale, broken, other clusters, junk', () => {
    const out = parseListOutput(
      `${UUID}\nzzzzz-dz642-000000000000002 stale\nbroken\n\nyyyyy-dz642-000000000000003\nzzzzz-dz642-bad; echo\n`,
      'zzzzz',
    );
    expect(out).toEqual({ running: [UUID], stale: ['zzzzz-dz642-000000000000002'], broken: true, rejected: ['zzzzz-dz642-bad; echo'] });
  });

  it('writes the secret first in the init command, then InstanceInitCommand', () => {
    const s = newInstanceSecret(new SeededRng('x'));
    expect(s).toMatch(/^[0-9a-f]{40}$/);
    expect(initCommand(s, 'echo hi')).toBe(`umask 0177 && echo -n "${s}" >/var/run/arvados-instance-secret\necho hi`);
    expect(() => initCommand('"; reboot; "', '')).toThrow();
    expect(tagKeys('Arvados')).toEqual({
      instanceSetId: 'ArvadosInstanceSetID',
      instanceType: 'ArvadosInstanceType',
      idleBehavior: 'ArvadosIdleBehavior',
      instanceSecret: 'ArvadosInstanceSecret',
    });
  });
});

describe('runner deployment', () => {
  it('names the binary by its md5 under DeployRunnerDirectory and refuses odd directories', async () => {
    const { runnerDeployment } = await import('./runner-deployment.js');
    const d = runnerDeployment('/tmp/arvados-crunch-run/', Buffer.from('abc'));
    expect(d).toMatchObject({ command: '/tmp/arvados-crunch-run/crunch-run~900150983cd24fb0d6963f7d28e17f72', md5: '900150983cd24fb0d6963f7d28e17f72' });
    for (const bad of ['relative/dir', '/tmp/$(x)', '/tmp/a b', '/']) expect(() => runnerDeployment(bad, Buffer.from('x'))).toThrow(/DeployRunnerDirectory/);
  });
});
