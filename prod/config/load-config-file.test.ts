import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigFileError, loadConfigFile, loadDispatchPrivateKey, parseConfigText } from './load-config-file.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileError(p: Promise<unknown>): Promise<ConfigFileError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConfigFileError) return e;
    throw e;
  }
  throw new Error('expected a ConfigFileError');
}

describe('loadConfigFile', () => {
  it('loads the example config', async () => {
    const { config, warnings } = await loadConfigFile(join(repoRoot, 'examples', 'config.yml'));
    expect(warnings).toEqual([]);
    expect(config.ClusterID).toBe('zzzzz');
    expect(config.Containers.CloudVMs.TimeoutIdle).toBe(120_000);
    expect(config.InstanceTypes['m5.large']?.scratch).toBe(50e9);
    expect(config.InstanceTypes['m5.large.preemptible']?.price).toBeCloseTo(0.0336, 10);
    expect(config.InstanceTypes['g4dn.xlarge']?.gpu.stack).toBe('cuda');
  });

  it('reads yes/no as booleans, as Arvados (YAML 1.1) does', () => {
    const { config } = parseConfigText('Clusters:\n  zzzzz:\n    TLS: {Insecure: yes}\n', 'c.yml');
    expect(config.TLS.Insecure).toBe(true);
  });

  it('reads TLS.Certificate and TLS.Key ("" by default) as given, without a warning', () => {
    const { config, warnings } = parseConfigText('Clusters:\n  zzzzz:\n    TLS: {Certificate: "file:///etc/arvados/tls.crt", Key: "file:///etc/arvados/tls.key"}\n', 'c.yml');
    expect(config.TLS).toEqual({ Insecure: false, Certificate: 'file:///etc/arvados/tls.crt', Key: 'file:///etc/arvados/tls.key' });
    expect(warnings).toEqual([]);
    expect(parseConfigText('Clusters:\n  zzzzz: {}\n', 'c.yml').config.TLS).toEqual({ Insecure: false, Certificate: '', Key: '' });
  });

  it('reads JSON files', async () => {
    const f = join(dir, 'c.json');
    await writeFile(f, '{"Clusters": {"abcde": {"Containers": {"CloudVMs": {"MaxInstances": 3}}}}}');
    expect((await loadConfigFile(f)).config.Containers.CloudVMs.MaxInstances).toBe(3);
  });

  it('names the file, the key path and what was expected for a bad value', async () => {
    const f = join(dir, 'bad-value.yml');
    await writeFile(f, 'Clusters:\n  zzzzz:\n    Containers:\n      CloudVMs:\n        TimeoutIdle: 60\n');
    const e = await fileError(loadConfigFile(f));
    expect(e.path).toBe('Clusters.zzzzz.Containers.CloudVMs.TimeoutIdle');
    expect(e.message).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: Clusters\\.zzzzz\\.Containers\\.CloudVMs\\.TimeoutIdle: expected a duration like 10s or 1m30s, got 60`));
  });

  it('names line and column for a YAML syntax error', async () => {
    const f = join(dir, 'bad-syntax.yml');
    await writeFile(f, 'Clusters:\n  zzzzz:\n    Containers: [unclosed\n');
    const e = await fileError(loadConfigFile(f));
    expect(e.message).toMatch(/bad-syntax\.yml: line 4, column 1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
  });

  it('rejects duplicate keys', () => {
    expect(() => parseConfigText('Clusters:\n  zzzzz: {}\n  zzzzz: {}\n', 'dup.yml')).toThrow(/dup\.yml: line 3, column 3: invalid YAML: Map keys must be unique$/);
  });

  it('names line and column for a JSON syntax error', () => {
    expect(() => parseConfigText('{"Clusters":\n  {"zzzzz": }}', 'c.json')).toThrow(/^c\.json: line 2, column 13: invalid JSON: unexpected token$/);
  });

  it('reports an unreadable file', async () => {
    const e = await fileError(loadConfigFile(join(dir, 'missing.yml')));
    expect(e.message).toMatch(/missing\.yml: reading the config file: ENOENT/);
  });

  it('chooses among several clusters', () => {
    const text = 'Clusters:\n  aaaaa: {}\n  bbbbb: {}\n';
    expect(() => parseConfigText(text, 'c.yml')).toThrow(/^c\.yml: Clusters: the config defines several clusters/);
    expect(parseConfigText(text, 'c.yml', { clusterId: 'bbbbb' }).config.ClusterID).toBe('bbbbb');
  });
});

describe('loadDispatchPrivateKey', () => {
  it('returns PEM text as is and loads file:// URLs', async () => {
    expect(await loadDispatchPrivateKey('-----BEGIN KEY-----', 'c.yml', 'k')).toBe('-----BEGIN KEY-----');
    const f = join(dir, 'key');
    await writeFile(f, 'PEM');
    expect(await loadDispatchPrivateKey(pathToFileURL(f).href, 'c.yml', 'k')).toBe('PEM');
    await expect(loadDispatchPrivateKey(pathToFileURL(join(dir, 'nokey')).href, 'c.yml', 'Clusters.zzzzz.Containers.DispatchPrivateKey')).rejects.toThrow(
      /c\.yml: Clusters\.zzzzz\.Containers\.DispatchPrivateKey: reading the private key file .*: ENOENT/,
    );
  });
});
