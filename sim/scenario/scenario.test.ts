import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario, ScenarioFileError } from './scenario.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const scenariosDir = join(repoRoot, 'scenarios');

const minimal = () => ({
  name: 'mini',
  cluster: { InstanceTypes: { 'm5.large': { VCPUs: 2, RAM: '8GiB', Price: 0.096 } } },
  workload: [{ kind: 'burst', at: '0s', count: 2, runtime: '5m', vcpus: 1, ram: '1GiB' }],
});

function writeScenario(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmd-scenario-'));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, text);
  return file;
}

describe('scenario files', () => {
  it.each(readdirSync(scenariosDir).filter((f) => f.endsWith('.yaml')))('scenarios/%s is valid', (f) => {
    const s = loadScenarioFile(join(scenariosDir, f));
    expect(s.name).toBe(f.replace(/\.yaml$/, ''));
    expect(s.workload.length).toBeGreaterThan(0);
  });

  it('applies defaults: seed 1, policy arvados, cloud defaults', () => {
    const s = parseScenario(minimal(), '.');
    expect(s.seed).toBe(1);
    expect(s.policy).toBe('arvados');
    expect(s.cloud.createFailureRate).toBe(0);
    expect(s.config.InstanceTypes['m5.large']?.ram).toBe(8 * 2 ** 30);
  });

  it('lets --seed, --policy and --set override the file', () => {
    const s = parseScenario(minimal(), '.', { seed: 7, sets: ['cluster.Containers.CloudVMs.MaxInstances=3', 'cloud.bootTime=3m'] });
    expect(s.seed).toBe(7);
    expect(s.config.Containers.CloudVMs.MaxInstances).toBe(3);
    expect(s.cloud.bootTime).toBe(180_000);
  });

  it.each([
    [{ ...minimal(), cloud: { bootTim: '90s' } }, /^cloud\.bootTim: unknown key/],
    [{ ...minimal(), cloud: { bootTime: '-3m' } }, /^cloud\.bootTime: expected a duration that is not negative/],
    [{ ...minimal(), horizn: '1h' }, /^horizn: unknown key/],
    [{ ...minimal(), policy: 'nope' }, /^policy: expected one of arvados/],
    [{ ...minimal(), cluster: { Containers: { CloudVMs: { TimeoutIdle: 'soon' } }, InstanceTypes: {} } }, /^cluster\.Containers\.CloudVMs\.TimeoutIdle: /],
    [{ ...minimal(), expect: ['wait.p95 ≤ 9'] }, /^expect\[0\]: /],
    [{ name: 'x', cluster: minimal().cluster }, /^workload: required/],
  ])('names the path of bad input (%#)', (doc, message) => {
    expect(() => parseScenario(doc, '.')).toThrow(message);
  });

  it('names the file and the line of invalid YAML', () => {
    const file = writeScenario('name: x\nworkload: [\n');
    expect(() => loadScenarioFile(file)).toThrow(ScenarioFileError);
    expect(() => loadScenarioFile(file)).toThrow(/scenario\.yaml: line \d+, column \d+: invalid YAML/);
  });

  it('names the file and the path inside it', () => {
    const file = writeScenario('name: x\ncluster: {InstanceTypes: {a1: {VCPUs: 1, RAM: 1GiB}}}\ncloud: {bootTime: -3m}\nworkload: []\n');
    expect(() => loadScenarioFile(file)).toThrow(/scenario\.yaml: cloud\.bootTime: expected a duration that is not negative/);
  });
});
