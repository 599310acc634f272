import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestKeyPair } from '../../test/fixtures/ssh-keys.js';
import { ScriptedHandler } from '../../test/fixtures/ssh-scripted-handler.js';
import { startVmSshServer, type VmSshServer } from './vm-ssh-server.js';

const SSH = '/usr/bin/ssh';
const haveSsh = existsSync(SSH) || process.env.CI !== undefined;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the OpenSSH client (asynchronously: the server answers on this event loop). */
function ssh(args: readonly string[], stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(SSH, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe.skipIf(!haveSsh)('VM SSH server with the OpenSSH client', () => {
  const dispatch = generateTestKeyPair('dispatch');
  const stranger = generateTestKeyPair('stranger');
  const host = generateTestKeyPair('vm-host');
  const handler = new ScriptedHandler();
  const dir = mkdtempSync(join(tmpdir(), 'vmdispatch-ssh-client-'));
  const keyFile = join(dir, 'id_dispatch');
  const strangerFile = join(dir, 'id_stranger');
  let server: VmSshServer;
  const opts = (key: string) => [
    '-p',
    String(server.port),
    '-i',
    key,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'IdentitiesOnly=yes',
  ];

  beforeAll(async () => {
    writeFileSync(keyFile, dispatch.privateKey, { mode: 0o600 });
    writeFileSync(strangerFile, stranger.privateKey, { mode: 0o600 });
    server = await startVmSshServer({ hostKey: host.privateKey, authorizedKeys: [dispatch.parsed], handler });
  });
  afterAll(async () => {
    handler.dispose();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 'crunch-run --list' through the command handler", async () => {
    const r = await ssh([...opts(keyFile), 'root@127.0.0.1', 'crunch-run --list']);
    expect(r).toEqual({ code: 0, stdout: 'zzzzz-dz642-000000000000001\n', stderr: '' });
    expect(handler.commands).toContain('crunch-run --list');
  });

  it('passes stdin through and returns the exit status and stderr', async () => {
    expect((await ssh([...opts(keyFile), 'root@127.0.0.1', 'cat'], 'to the VM\n')).stdout).toBe('to the VM\n');
    const r = await ssh([...opts(keyFile), 'root@127.0.0.1', 'echo out; echo oops >&2; exit 3']);
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'oops\n' });
  });

  it('presents its host key, which a strict client accepts', async () => {
    const known = join(dir, 'known_hosts');
    writeFileSync(known, `[127.0.0.1]:${server.port} ${host.publicLine}\n`);
    const strict = opts(keyFile).map((a) => (a === 'StrictHostKeyChecking=no' ? 'StrictHostKeyChecking=yes' : a === 'UserKnownHostsFile=/dev/null' ? `UserKnownHostsFile=${known}` : a));
    expect((await ssh([...strict, 'root@127.0.0.1', 'echo trusted'])).stdout).toBe('trusted\n');
  });

  it('refuses a key that is not the dispatcher’s', async () => {
    const before = handler.commands.length;
    const r = await ssh([...opts(strangerFile), 'root@127.0.0.1', 'echo intruder']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(handler.commands.length).toBe(before);
  });

  it('drops connections and refuses new ones while unreachable', async () => {
    server.setReachable(false);
    const r = await ssh([...opts(keyFile), 'root@127.0.0.1', 'echo x']);
    expect(r.code).toBe(255);
    server.setReachable(true);
    expect((await ssh([...opts(keyFile), 'root@127.0.0.1', 'echo back'])).stdout).toBe('back\n');
  });
});
