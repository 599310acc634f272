import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...args: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, stderr: err.join('\n') };
}

// The daemon and the world themselves are tested in prod/daemon/daemon.test.ts and, as
// separate processes, in test/e2e/serve-world.test.ts; here only their bad input.
describe('vmdispatch serve and world: bad input exits 2 with a message', () => {
  it('serve', async () => {
    const missing = await run('serve', '--config', '/nonexistent/vmdispatch/config.yml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/vmdispatch/config.yml: reading the config file: ENOENT');
    // Go-style single-dash flags, as arvados-dispatch-cloud takes them.
    expect((await run('serve', '-config', '/nonexistent/vmdispatch/config.yml')).stderr).toContain('reading the config file: ENOENT');
    expect((await run('serve', '--bogus')).code).toBe(2);
    expect((await run('serve', 'positional')).code).toBe(2);
  });

  it('serve: an unknown SystemLogs.Format', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'vmdispatch-serve-cli-'));
    try {
      const file = join(dir, 'config.yml');
      await writeFile(file, 'Clusters:\n  zzzzz:\n    SystemLogs: {Format: logfmt}\n');
      const r = await run('serve', '--config', file);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file}: Clusters.zzzzz.SystemLogs.Format: expected one of json, text, plain, got "logfmt"`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('world', async () => {
    expect((await run('world')).code).toBe(2);
    const missing = await run('world', '/nonexistent/vmdispatch/s.yaml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/vmdispatch/s.yaml: cannot read the scenario');
    expect((await run('world', 'a.yaml', '--seed', 'x')).code).toBe(2);
    expect((await run('world', 'a.yaml', '--log-level', 'loud')).code).toBe(2);
  });
});
