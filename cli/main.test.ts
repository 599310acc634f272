import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test/support/cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = `${ROOT}dist/cli/bin.js`;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('vmdispatch', () => {
  it('prints its version with --version (and -version, as Arvados daemons take it)', async () => {
    for (const flag of ['--version', '-version', 'version']) {
      const r = await runCli(flag);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`vmdispatch ${pkg.version} (node ${process.version})`);
    }
  });

  it('prints the command list with --help, exit 0; without a command, exit 2', async () => {
    const help = await runCli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: vmdispatch <command>/);
    for (const c of ['sim', 'compare', 'whatif', 'policies', 'serve', 'world', 'cloudtest', 'instance-types', 'instance']) {
      expect(help.stdout).toMatch(new RegExp(`\\n  ${c}( |\\n)`));
    }
    expect((await runCli()).code).toBe(2);
  });

  it('refuses an unknown command, including names of Object.prototype members', async () => {
    for (const name of ['simulate', 'constructor', '__proto__', 'toString']) {
      const r = await runCli(name);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toContain(`vmdispatch: unknown command ${JSON.stringify(name)}`);
    }
  });
});

describe('the README main command', () => {
  // `npx vmdispatch` runs dist/cli/bin.js itself: the build must leave it executable (tsc
  // writes it 644, and npm ci does not mark the root package's own bin).
  it.skipIf(process.env['CI'] === undefined && !existsSync(BIN))('npx vmdispatch runs from the repository root after a build', () => {
    expect(statSync(BIN).mode & 0o111).not.toBe(0);
    const r = spawnSync('npx', ['--no-install', 'vmdispatch', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`vmdispatch ${pkg.version} (node ${process.version})`);
  });
});
