import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseJson } from '../core/domain/json.js';
import { browserUnavailable, launchBrowser, openReport, screenshotPath } from '../test/support/browser.js';
import { runCli } from '../test/support/cli.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const quickstart = join(repoRoot, 'scenarios', 'quickstart.yaml');
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-sim-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const run = runCli;

async function scenarioFile(name: string, text: string): Promise<string> {
  const f = join(dir, name);
  await writeFile(f, text);
  return f;
}

const SMALL = `name: small
cluster:
  InstanceTypes:
    m5.large: {VCPUs: 2, RAM: 8GiB, Price: 0.096}
workload:
  - {kind: burst, at: 0s, count: 3, runtime: 5m, vcpus: 1, ram: 1GiB}
`;

describe('vmdispatch sim', () => {
  it('runs quickstart, prints the summary and writes summary.json, containers.csv and report.html', async () => {
    const out = join(dir, 'q');
    const r = await run('sim', quickstart, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^scenario\s+quickstart \(policy arvados, seed 1, transport direct\)/);
    expect(r.stdout).toContain('ok    containers.complete == containers.total');
    const summary = parseJson(await readFile(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['scenario', 'policy', 'seed', 'transport', 'simulatedSeconds', 'wallSeconds', 'events', 'containers', 'wait', 'cost', 'instances', 'expectations', 'invariantViolations']) {
      expect(summary).toHaveProperty(key);
    }
    expect(summary.containers).toMatchObject({ total: 120, complete: 120, lost: 0, doubleStarts: 0 });
    const csv = (await readFile(join(out, 'containers.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('uuid,request,priority,submitted,started,finished,state,exit_code,instance_type,instance_id,wait,cost');
    expect(csv.length).toBe(121);
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('<h2>Summary</h2>');
  }, 60_000);

  it('exits 1 when an expectation fails, and says which', async () => {
    const r = await run('sim', quickstart, '--set', 'expect=["wait.p95 < 1"]');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL  wait.p95 < 1');
  }, 60_000);

  it.each([
    ['a typo in a key', `${SMALL}cloud: {bootTim: 90s}\n`, /bad\.yaml: cloud\.bootTim: unknown key/],
    ['a negative duration', `${SMALL}cloud: {bootTime: -3m}\n`, /bad\.yaml: cloud\.bootTime: expected a duration that is not negative/],
    ['a missing trace file', `${SMALL.replace(/workload:[\s\S]*/, '')}workload:\n  - {kind: swf, path: no-such-trace.swf}\n`, /bad\.yaml: workload\[0\]\.path: .*no-such-trace\.swf/],
    ['invalid YAML', 'name: [\n', /bad\.yaml: line \d+, column \d+: invalid YAML/],
  ])('exits 2 naming the file and path for %s', async (_what, text, message) => {
    const f = await scenarioFile('bad.yaml', text);
    const r = await run('sim', f);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['sim'], /expected one scenario file/],
    [['sim', quickstart, '--frobnicate'], /Unknown option '--frobnicate'/],
    [['sim', quickstart, '--seed', 'x'], /--seed: expected a whole number/],
    [['sim', quickstart, '--transport', 'carrier-pigeon'], /--transport: expected direct or ssh/],
    [['sim', quickstart, '--policy', 'nope'], /--policy: expected one of arvados/],
    [['sim', join(dir, 'missing.yaml')], /missing\.yaml: cannot read the scenario: ENOENT/],
  ])('exits 2 on bad arguments (case %#)', async (args, message) => {
    const r = await run(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('is deterministic across runs: identical summary.json apart from wallSeconds', async () => {
    const f = await scenarioFile('small.yaml', SMALL);
    await run('sim', f, '--out', join(dir, 'a'));
    await run('sim', f, '--out', join(dir, 'b'));
    const strip = (t: string) => t.replace(/"wallSeconds": [\d.]+/, '');
    expect(strip(await readFile(join(dir, 'a', 'summary.json'), 'utf8'))).toBe(strip(await readFile(join(dir, 'b', 'summary.json'), 'utf8')));
  }, 60_000);

  describe.skipIf(browserUnavailable())('report.html in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('opens without console errors, with every chart drawn', async () => {
      const out = join(dir, 'report');
      expect((await run('sim', quickstart, '--out', out)).code).toBe(0);
      const { page, errors } = await openReport(browser, join(out, 'report.html'));
      const drawn = (await page.evaluate(
        `[...document.querySelectorAll('figure.chart')].map((f) => [f.getAttribute('data-chart'), f.querySelectorAll('.series').length, f.querySelectorAll('path.series, rect.point').length])`,
      )) as [string, number, number][];
      expect(errors).toEqual([]);
      expect(drawn.map((d) => d[0])).toEqual(['vms', 'queue', 'cost', 'wait']);
      for (const [, series, marks] of drawn) {
        expect(series).toBeGreaterThan(0);
        expect(marks).toBeGreaterThan(0);
      }
      await page.screenshot({ path: screenshotPath('sim-quickstart-report.png'), fullPage: true });
      await page.close();
    }, 60_000);
  });
});
