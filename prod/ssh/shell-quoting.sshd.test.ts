import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../core/domain/shell.js';
import type { Executor } from '../../core/ports/executor.js';
import { sshdEnv } from '../../test/fixtures/ssh-contract-envs.js';
import { sshdAvailable } from '../../test/fixtures/ssh-sshd.js';

// Values that are not container UUIDs must stay inert on a real remote shell: a command
// that prints the quoted value prints it verbatim, and nothing else runs.
describe.skipIf(!sshdAvailable())('shell quoting through the SSH executor on OpenSSH sshd', () => {
  let env: Awaited<ReturnType<typeof sshdEnv>>;
  let ex: Executor;
  beforeAll(async () => {
    env = await sshdEnv();
    ex = env.newExecutor();
  });
  afterAll(async () => {
    ex?.close();
    await env?.teardown();
  });

  const printQuoted = async (value: string) => (await ex.execute(`printf '%s' ${shellQuote(value)}`)).stdout.toString('utf8');

  it('keeps ;, $(), backquotes and quotes in a would-be UUID inert', async () => {
    const pwned = (n: number) => join(env.dir, `pwned-${n}`);
    const evil = `zzzzz-dz642-abc;touch ${pwned(1)};$(touch ${pwned(2)})'"\`touch ${pwned(3)}\`'; touch ${pwned(4)} #`;
    expect(await printQuoted(evil)).toBe(evil);
    for (const n of [1, 2, 3, 4]) expect(existsSync(pwned(n))).toBe(false);
  });

  it('prints any string of shell metacharacters verbatim (property)', async () => {
    const meta = fc.constantFrom(...`;$()\`'"\\|&<>*?~#!{}[] \t\n=%^a-Z09é☃`.split(''));
    await fc.assert(
      // Several values per command keeps the run short (each command starts a remote shell).
      fc.asyncProperty(fc.array(fc.string({ unit: meta, maxLength: 40 }), { minLength: 1, maxLength: 10 }), async (values) => {
        const out = await ex.execute(`printf '%s\\0' ${values.map(shellQuote).join(' ')}`);
        expect(out.stdout.toString('utf8')).toBe(values.map((v) => `${v}\0`).join(''));
      }),
      { numRuns: 25 },
    );
    expect(readdirSync(env.dir).filter((f) => f.startsWith('pwned'))).toEqual([]);
  });
});
