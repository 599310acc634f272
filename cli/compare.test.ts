import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { policyNames } from '../core/scheduler/policies.js';
import type { CompareResult } from '../reports/compare-report.js';
import { fakeSummary } from '../reports/report-fixtures.test-support.js';
import { browserUnavailable, launchBrowser, openCharts } from '../test/support/browser.js';
import { brokeInvariants, RunCounter } from './batch.js';
import { runCli } from '../test/support/cli.js';

// Small and fast: 24 containers on two instance types (names without dots, so that
// `--set cluster.InstanceTypes.small.Price=...` works).
const SCENARIO = `
name: tiny-compare
seed: 3
horizon: 8h
cluster:
  Containers:
    CloudVMs: {MaxInstances: 6, TimeoutIdle: 1m}
  InstanceTypes:
    small: {ProviderType: m5.large, VCPUs: 2, RAM: 8GiB, IncludedScratch: 32GB, Price: 0.1}
    large: {ProviderType: m5.2xlarge, VCPUs: 8, RAM: 32GiB, IncludedScratch: 128GB, Price: 0.4}
cloud:
  bootTime: {median: 60s, p95: 2m}
workload:
  - {kind: poisson, count: 24, ratePerHour: 40, runtime: {median: 5m, p95: 15m}, vcpus: [1, 2, 6], ram: [2GiB, 4GiB]}
expect:
  - containers.complete == containers.total
`;

let dir = '';
let scenario = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-compare-'));
  scenario = join(dir, 'tiny.yaml');
  await writeFile(scenario, SCENARIO);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const run = runCli;

const withoutWall = (r: CompareResult): unknown =>
  JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'wallSeconds' ? 0 : v)));

describe('vmdispatch compare', () => {
  // Up to two registered policies (others are being added): the same scenario, seeds 3 and 4.
  const policies = policyNames().slice(0, 2);

  it('writes compare.html, compare.json and every run\'s containers.csv; same results twice', async () => {
    const out = join(dir, 'out');
    const r = await run('compare', scenario, '--policy', policies.join(','), '--seeds', '2', '--out', out, '--quiet');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^policy\s+cost\s+cost\/bound/);
    expect(r.stdout).toContain('compare.html');
    const result = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareResult;
    expect(result.scenario).toBe('tiny-compare');
    expect(result.seeds).toEqual([3, 4]);
    expect(result.policies).toEqual(policies);
    expect(result.runs.map((x) => [x.policy, x.seed])).toEqual(policies.flatMap((p) => [[p, 3], [p, 4]]));
    for (const x of result.runs) {
      expect(x.summary.containers.total).toBe(24);
      expect(x.summary.policy).toBe(x.policy);
      expect(x.summary.seed).toBe(x.seed);
      expect(Object.keys(x.summary.instances.hoursByType ?? {}).length).toBeGreaterThan(0);
      const csv = readFileSync(join(out, `${x.policy}-seed${x.seed}`, 'containers.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toMatch(/^uuid,request,priority,submitted,started,finished,state,/);
      expect(csv.length - 1).toBeGreaterThanOrEqual(24);
      expect(existsSync(join(out, `${x.policy}-seed${x.seed}`, 'summary.json'))).toBe(true);
    }
    const p0 = result.byPolicy[0]!;
    expect(p0.runs).toBe(2);
    expect(p0.cost.total.min).toBeLessThanOrEqual(p0.cost.total.median);
    expect(p0.cost.total.median).toBeLessThanOrEqual(p0.cost.total.max);
    expect(p0.cost.ratio!.median).toBeGreaterThanOrEqual(1);
    const html = readFileSync(join(out, 'compare.html'), 'utf8');
    expect(html).toContain('<h2>Summary by policy</h2>');
    expect(html).not.toMatch(/<script[^>]+src=/);

    if (!browserUnavailable()) {
      // The report of real runs renders: a dot per seed for each policy.
      const browser = await launchBrowser();
      try {
        const { charts } = await openCharts(browser, join(out, 'compare.html'));
        expect(charts.map((c) => c.id)).toEqual(['cost-ratio', 'wait-p95', 'hours-by-type', 'cost-vs-wait']);
        expect(charts[0]!.series[0]!.points).toBe(policies.length);
        expect(charts[3]!.series.map((x) => x.points)).toEqual(policies.map(() => 2));
      } finally {
        await browser.close();
      }
    }

    // Determinism: the same inputs give the same figures (wall time aside).
    const out2 = join(dir, 'out2');
    expect((await run('compare', scenario, '--policy', policies.join(','), '--seeds', '2', '--out', out2, '--quiet', '--jobs', '1')).code).toBe(0);
    const again = JSON.parse(readFileSync(join(out2, 'compare.json'), 'utf8')) as CompareResult;
    expect(withoutWall(again)).toEqual(withoutWall(result));
    expect(readFileSync(join(out2, `${policies[0]}-seed4`, 'containers.csv'), 'utf8')).toBe(readFileSync(join(out, `${policies[0]}-seed4`, 'containers.csv'), 'utf8'));
  });

  it('takes --seed as the first seed and --set overrides', async () => {
    const out = join(dir, 'out-seed');
    const r = await run('compare', scenario, '--policy', policies[0]!, '--seeds', '1', '--seed', '7', '--set', 'cluster.InstanceTypes.small.Price=0.2', '--out', out, '-q');
    expect(r.code).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareResult;
    expect(result.seeds).toEqual([7]);
    expect(existsSync(join(out, `${policies[0]}-seed7`, 'containers.csv'))).toBe(true);
  });

  it('exits 2 naming an unknown policy', async () => {
    const r = await run('compare', scenario, '--policy', `${policies[0]},nosuch`, '--out', join(dir, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--policy: unknown policy "nosuch"; expected one of arvados/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it.each([
    [['--out', 'o'], /--policy: required/],
    [['--policy', 'arvados'], /--out: required/],
    [['--policy', 'arvados', '--out', 'o', '--seeds', '0'], /--seeds: expected a whole number from 1/],
    [['--policy', 'arvados,arvados', '--out', 'o'], /"arvados" is listed twice/],
    [['--policy', 'arvados', '--out', 'o', '--transport', 'ssh'], /--transport: compare runs the direct transport only/],
    [['--policy', 'arvados', '--out', 'o', '--set', 'cloud.bootTime=-3m'], /tiny\.yaml: cloud\.bootTime/],
    [['--policy', 'arvados', '--out', 'o', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 for bad input %j', async (extra, message) => {
    const r = await run('compare', scenario, ...extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 when --out cannot be a folder', async () => {
    const r = await run('compare', scenario, '--policy', 'arvados', '--seeds', '1', '--out', join(scenario, 'sub'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out .*tiny\.yaml.sub: cannot create the folder: ENOTDIR/);
  });

  it('exits 2 naming an unreadable scenario file', async () => {
    const r = await run('compare', join(dir, 'missing.yaml'), '--policy', 'arvados', '--out', join(dir, 'y'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing\.yaml: cannot read the scenario: ENOENT/);
  });

  it('counts runs done on a terminal only', () => {
    const writes: string[] = [];
    const fake = (isTTY: boolean) => ({ isTTY, write: (t: string) => writes.push(t) }) as unknown as NodeJS.WriteStream;
    const quiet = new RunCounter('compare x', fake(false));
    quiet.update(1, 4);
    quiet.clear();
    expect(writes).toEqual([]);
    const tty = new RunCounter('compare x', fake(true));
    tty.update(3, 4);
    tty.clear();
    expect(writes).toEqual(['\rcompare x: 3/4 runs done\x1b[K', '\r\x1b[K']);
  });

  it('fails (exit 1) when any run broke an invariant', () => {
    expect(brokeInvariants([fakeSummary({ cost: 1, p95: 1 }), fakeSummary({ cost: 1, p95: 1, violations: 2 })])).toBe(1);
    expect(brokeInvariants([fakeSummary({ cost: 1, p95: 1 })])).toBe(0);
  });
});
