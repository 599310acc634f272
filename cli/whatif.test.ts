import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WhatifResult } from '../reports/whatif-report.js';
import { browserUnavailable, launchBrowser, openCharts } from '../test/support/browser.js';
import { InputError } from './errors.js';
import { parseAxes, parseVary, splitValues } from './whatif.js';
import { runCli } from '../test/support/cli.js';

const SCENARIO = `
name: tiny-whatif
horizon: 8h
cluster:
  Containers:
    CloudVMs: {MaxInstances: 6, TimeoutIdle: 1m}
  InstanceTypes:
    small: {ProviderType: m5.large, VCPUs: 2, RAM: 8GiB, IncludedScratch: 32GB, Price: 0.1}
    large: {ProviderType: m5.2xlarge, VCPUs: 8, RAM: 32GiB, IncludedScratch: 128GB, Price: 0.4}
cloud:
  bootTime: 60s
workload:
  - {kind: poisson, count: 20, ratePerHour: 60, runtime: {median: 5m, p95: 15m}, vcpus: [1, 2, 6], ram: [2GiB, 4GiB]}
`;

let dir = '';
let scenario = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-whatif-'));
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

describe('--vary syntax', () => {
  it('splits at commas outside braces, brackets and quotes', () => {
    expect(splitValues('10,20, 40', 'o')).toEqual(['10', '20', '40']);
    expect(splitValues('{median: 90s, p95: 4m},{median: 3m, p95: 10m}', 'o')).toEqual(['{median: 90s, p95: 4m}', '{median: 3m, p95: 10m}']);
    expect(splitValues('[1, 2],[4]', 'o')).toEqual(['[1, 2]', '[4]']);
    expect(splitValues('"a,b",it\'s', 'o')).toEqual(['"a,b"', "it's"]);
  });

  it('rejects empty, repeated and unbalanced values', () => {
    expect(() => splitValues('10,,20', '--vary x')).toThrow(/--vary x: value 2 is empty/);
    expect(() => splitValues('10,10', '--vary x')).toThrow(/"10" is listed twice/);
    expect(() => splitValues('{a: 1', '--vary x')).toThrow(/unbalanced/);
    expect(() => splitValues('a}', '--vary x')).toThrow(InputError);
  });

  it('reads numbers, durations (as seconds) and anything else as categories', () => {
    expect(parseVary('cluster.Containers.CloudVMs.MaxInstances=10,20,40')).toEqual({ path: 'cluster.Containers.CloudVMs.MaxInstances', texts: ['10', '20', '40'], numeric: [10, 20, 40], unit: '' });
    expect(parseVary('cloud.bootTime=90s,3m')).toMatchObject({ numeric: [90, 180], unit: 'seconds' });
    expect(parseVary('cloud.bootTime={median: 90s, p95: 4m},2m')).toMatchObject({ texts: ['{median: 90s, p95: 4m}', '2m'], numeric: null });
    expect(() => parseVary('=1,2')).toThrow(/expected PATH=V1,V2/);
    expect(() => parseVary('cloud.bootTime=[1,2')).toThrow(/unbalanced/);
  });

  it('caps the grid and takes each PATH once', () => {
    const many = (p: string) => `${p}=${Array.from({ length: 15 }, (_, i) => i + 1).join(',')}`;
    expect(() => parseAxes([many('a'), many('b')])).toThrow(/the grid has 225 points \(15 x 15\); at most 200/);
    expect(() => parseAxes(['a=1,2', 'a=3'])).toThrow(/a is varied twice/);
    expect(() => parseAxes(undefined)).toThrow(/--vary: required/);
  });
});

describe('vmdispatch whatif', () => {
  it('runs the grid and writes whatif.html, whatif.json, whatif.csv and each run\'s containers.csv', async () => {
    const out = join(dir, 'out');
    const r = await run('whatif', scenario, '--vary', 'cluster.Containers.CloudVMs.MaxInstances=2,6', '--vary', 'cloud.bootTime=30s,3m', '--seeds', '1', '--out', out, '--quiet');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^#\s+cluster\.Containers\.CloudVMs\.MaxInstances\s+cloud\.bootTime\s+cost/);
    const result = JSON.parse(readFileSync(join(out, 'whatif.json'), 'utf8')) as WhatifResult;
    expect(result.points.map((p) => p.values)).toEqual([
      ['2', '30s'],
      ['2', '3m'],
      ['6', '30s'],
      ['6', '3m'],
    ]);
    expect(result.policy).toBe('arvados');
    expect(result.seeds).toEqual([1]);
    // The varied values reach the runs: a slower boot costs more booting time, fewer VMs make containers wait.
    const at = (m: string, b: string) => result.points.find((p) => p.values[0] === m && p.values[1] === b)!;
    expect(at('6', '3m').runs[0]!.summary.cost.booting).toBeGreaterThan(at('6', '30s').runs[0]!.summary.cost.booting);
    expect(at('2', '30s').waitP95.median).toBeGreaterThan(at('6', '30s').waitP95.median);
    for (const p of result.points) expect(p.runs[0]!.summary.instances.peak).toBeLessThanOrEqual(Number(p.values[0]));

    const csv = readFileSync(join(out, 'whatif.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('point,cluster.Containers.CloudVMs.MaxInstances,cloud.bootTime,cost_median,cost_min,cost_max,cost_ratio_median,wait_p50_median,wait_p95_median,wait_p95_min,wait_p95_max,wait_max_median,interruptions_median,invariant_violations');
    expect(csv).toHaveLength(5);
    expect(csv[1]).toMatch(/^1,2,30s,[\d.]+,/);
    for (let i = 1; i <= 4; i++) expect(existsSync(join(out, `point${i}-seed1`, 'containers.csv'))).toBe(true);
    expect(readFileSync(join(out, 'whatif.html'), 'utf8')).toContain('<h2>Configurations</h2>');
    if (!browserUnavailable()) {
      const browser = await launchBrowser();
      try {
        const { charts } = await openCharts(browser, join(out, 'whatif.html'));
        expect(charts.map((c) => [c.id, c.kind])).toEqual([
          ['tradeoff', 'scatter'],
          ['cost-by-0', 'line'],
          ['wait-by-0', 'line'],
          ['cost-by-1', 'line'],
          ['wait-by-1', 'line'],
        ]);
        expect(charts[0]!.series[0]!.points).toBe(4);
        expect(charts[1]!.axisLabels[0]).toBe('cluster.Containers.CloudVMs.MaxInstances');
        expect(charts[3]!.axisLabels[0]).toBe('cloud.bootTime (seconds)');
        for (const c of charts.slice(1)) expect(c.series.map((x) => x.points)).toEqual([2, 2]);
      } finally {
        await browser.close();
      }
    }
  });

  it('varies a price: the same runs cost more at the higher price', async () => {
    const out = join(dir, 'price');
    const r = await run('whatif', scenario, '--vary', 'cluster.InstanceTypes.small.Price=0.1,0.3', '--seeds', '1', '--out', out, '-q');
    expect(r.code).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'whatif.json'), 'utf8')) as WhatifResult;
    const [cheap, dear] = result.points;
    expect(dear!.cost.median).toBeGreaterThan(cheap!.cost.median);
    expect(result.axes[0]).toMatchObject({ numeric: [0.1, 0.3], unit: '' });
  });

  it('exits 2 naming the --vary value that makes an invalid scenario', async () => {
    const r = await run('whatif', scenario, '--vary', 'cloud.bootTime=90s,soon', '--out', join(dir, 'bad'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--vary cloud\.bootTime=soon: .*tiny\.yaml: cloud\.bootTime: expected a duration/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });

  it.each([
    [['--out', 'o'], /--vary: required/],
    [['--vary', 'cloud.bootTime=1m'], /--out: required/],
    [['--vary', 'cloud.bootTime=1m', '--out', 'o', '--policy', 'nosuch'], /--policy: expected one of arvados/],
    [['--vary', 'cloud.nosuch=1,2', '--out', 'o'], /--vary cloud\.nosuch=1: .*cloud\.nosuch/],
    [['--vary', 'cloud.bootTime=1m', '--out', 'o', '--seeds', 'x'], /--seeds: expected a whole number/],
  ])('exits 2 for bad input %j', async (extra, message) => {
    const r = await run('whatif', scenario, ...extra);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
