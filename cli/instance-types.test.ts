import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../test/support/cli.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const exampleConfig = join(repoRoot, 'examples', 'config.yml');
const exampleContainer = join(repoRoot, 'examples', 'container.json');
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const run = runCli;

async function file(name: string, text: string): Promise<string> {
  const f = join(dir, name);
  await writeFile(f, text);
  return f;
}

// The priority is above 2^53, written as the controller writes it.
const container = (o: Record<string, unknown> = {}): string =>
  JSON.stringify({ uuid: 'zzzzz-dz642-0123456789abcde', state: 'Queued', ...o }).replace(/^\{/, '{"priority":999999999999999999,');

describe('vmdispatch instance-types', () => {
  it('prints the eligible types of the README example in preference order', async () => {
    const r = await run('instance-types', '--config', exampleConfig, '--container', exampleContainer);
    expect(r).toEqual({ code: 0, stdout: '{"types":["m5.xlarge","c5.2xlarge"]}', stderr: '' });
  });

  it('honours --cluster and the preemptible variants', async () => {
    const cfg = await file('two.yml', 'Clusters:\n  aaaaa: {}\n  bbbbb:\n    Containers: {PreemptiblePriceFactor: 0.5}\n    InstanceTypes:\n      a: {VCPUs: 2, RAM: 8GiB, Price: 1}\n');
    const ctr = await file('pre.json', container({ runtime_constraints: { vcpus: 1, ram: 1073741824 }, scheduling_parameters: { preemptible: true } }));
    const r = await run('instance-types', '--config', cfg, '--container', ctr, '--cluster', 'bbbbb');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ types: ['a.preemptible'] });
  });

  it('exits 1 with the reason when no type satisfies the container', async () => {
    const ctr = await file('huge.json', container({ runtime_constraints: { vcpus: 512, ram: 1073741824 } }));
    const r = await run('instance-types', '--config', exampleConfig, '--container', ctr);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/constraints not satisfiable by any configured instance type \(needs 512 VCPUs, .* RAM, .*; configured types by price: m5\.large\.preemptible, /);
  });

  it('exits 1 for an invalid GPU stack', async () => {
    const ctr = await file('stack.json', container({ runtime_constraints: { vcpus: 1, gpu: { stack: 'opencl', device_count: 1 } } }));
    const r = await run('instance-types', '--config', exampleConfig, '--container', ctr);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Invalid GPU stack "opencl"/);
  });

  it('prints config warnings on stderr and still succeeds', async () => {
    const cfg = await file('warn.yml', 'Clusters:\n  zzzzz:\n    Containers: {Bogus: 1}\n    InstanceTypes:\n      a: {VCPUs: 2, RAM: 8GiB, Price: 1}\n');
    const ctr = await file('small.json', container({ runtime_constraints: { vcpus: 1, ram: 1 } }));
    const r = await run('instance-types', '--config', cfg, '--container', ctr);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"types":["a"]}');
    expect(r.stderr).toBe(`warning: ${cfg}: Clusters.zzzzz.Containers.Bogus: deprecated or unknown config entry, ignored`);
  });

  describe('bad input exits 2 with file, path and what was expected', () => {
    it('unknown option', async () => {
      const r = await run('instance-types', '--config', exampleConfig, '--container', exampleContainer, '--frobnicate');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Unknown option '--frobnicate'/);
    });

    it('missing options', async () => {
      expect((await run('instance-types', '--config', exampleConfig)).stderr).toMatch(/missing --container CONTAINER\.json/);
      expect((await run('instance-types')).code).toBe(2);
    });

    it('unreadable files', async () => {
      const r1 = await run('instance-types', '--config', join(dir, 'nope.yml'), '--container', exampleContainer);
      expect(r1.code).toBe(2);
      expect(r1.stderr).toMatch(/nope\.yml: reading the config file: ENOENT/);
      const r2 = await run('instance-types', '--config', exampleConfig, '--container', join(dir, 'nope.json'));
      expect(r2.code).toBe(2);
      expect(r2.stderr).toMatch(/nope\.json: reading the container file: ENOENT/);
    });

    it('an invalid config value', async () => {
      const cfg = await file('bad.yml', 'Clusters:\n  zzzzz:\n    InstanceTypes:\n      a: {VCPUs: 2, RAM: 8 gigs}\n');
      const r = await run('instance-types', '--config', cfg, '--container', exampleContainer);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${cfg}: Clusters.zzzzz.InstanceTypes.a.RAM: expected a size like 550MiB, 8GiB, 100GB or a number of bytes, got "8 gigs"`);
    });

    it('an invalid container record', async () => {
      const ctr = await file('badctr.json', container({ runtime_constraints: { ram: '8GiB' } }));
      const r = await run('instance-types', '--config', exampleConfig, '--container', ctr);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${ctr}: runtime_constraints.ram: expected a whole number, got "8GiB"`);
    });

    it('invalid JSON', async () => {
      const ctr = await file('syntax.json', '{"uuid": ');
      const r = await run('instance-types', '--config', exampleConfig, '--container', ctr);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${ctr}: line 1, column 10: invalid JSON: unexpected end of input`);
    });

    it('never prints a stack trace', async () => {
      const r = await run('instance-types', '--config', exampleConfig, '--container', join(dir, 'nope.json'));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
