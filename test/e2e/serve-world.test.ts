// End to end: `vmdispatch world` and `vmdispatch serve` as separate OS processes. The daemon
// reaches the world only through production adapters: the controller HTTP client, the EC2
// driver (AWS SDK) against the world's EC2 endpoint, and the SSH executor against one SSH
// server per VM. Time is real, so the scenario is small and the generated config's timeouts
// short; every wait polls with a generous bound.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSelfSignedCert, pingHttps } from '../../prod/management/self-signed-cert.fixture.js';
import { BIN, distProblem, killAll, Proc, REPO_ROOT, waitForStatus } from './processes.js';

const SCENARIO = join(REPO_ROOT, 'test', 'e2e', 'small-world.yaml');
const PROMTOOL = '/usr/bin/promtool';
// In CI (`npm ci` builds first) a missing or stale build is a failure, never a skip.
const problem = distProblem();
const skip = problem !== null && process.env['CI'] === undefined;
if (skip) console.warn(`e2e: skipped: ${problem}`);

/** Generous: the machine may be busy; a healthy run takes a fraction of these. */
const READY_MS = 30_000;
const WORKLOAD_MS = 90_000;
/** Per test: the bounded waits inside add up to less. */
const TEST_MS = 240_000;

interface WorldRun {
  readonly proc: Proc;
  readonly configFile: string;
  readonly summaryFile: string;
  readonly systemRootToken: string;
  readonly managementToken: string;
  readonly managementUrl: string;
}

let dir = '';
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-e2e-'));
});
afterEach(async () => {
  await killAll();
});
afterAll(async () => {
  await killAll();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function startWorld(...sets: string[]): Promise<WorldRun> {
  const run = ++n;
  const configFile = join(dir, `config-${run}.yml`);
  const summaryFile = join(dir, `summary-${run}.json`);
  const proc = new Proc(`world#${run}`, ['world', SCENARIO, '--config-out', configFile, '--summary-out', summaryFile, ...sets.flatMap((s) => ['--set', s])]);
  await proc.waitForStderr(/^ready$/m, READY_MS);
  const doc = parse(await readFile(configFile, 'utf8')) as { Clusters: Record<string, Record<string, unknown>> };
  const cluster = doc.Clusters['zzzzz'] as {
    SystemRootToken: string;
    ManagementToken: string;
    Services: { DispatchCloud: { InternalURLs: Record<string, unknown> } };
  };
  const managementUrl = Object.keys(cluster.Services.DispatchCloud.InternalURLs)[0] ?? '';
  return { proc, configFile, summaryFile, systemRootToken: cluster.SystemRootToken, managementToken: cluster.ManagementToken, managementUrl };
}

function startServe(w: WorldRun, label: string): Proc {
  return new Proc(`serve(${label})`, ['serve', '--config', w.configFile]);
}

/** Every line a JSON object, and no token anywhere. */
function checkLogs(p: Proc, w: WorldRun): void {
  expect(p.stderr).not.toContain(w.systemRootToken);
  expect(p.stderr).not.toContain(w.managementToken);
  expect(p.stdout).not.toContain(w.systemRootToken);
  for (const line of p.stderr.split('\n').filter((l) => l !== '')) {
    expect(() => JSON.parse(line) as unknown, `not a JSON log line: ${line}`).not.toThrow();
  }
}

async function get(url: string, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, text: await res.text() };
}

describe.skipIf(skip)('vmdispatch serve against vmdispatch world (separate processes)', () => {
  it('runs a small workload to completion, shuts idle VMs down, and stops on SIGTERM', { timeout: TEST_MS }, async () => {
    const w = await startWorld();
    const serve = startServe(w, 'only');
    await serve.waitForStderr(/"msg":"dispatcher started"/, READY_MS);
    await serve.waitForStderr(/"Version":"\d+\.\d+\.\d+"/, READY_MS);
    const done = await waitForStatus(w.summaryFile, 'every container to complete', WORKLOAD_MS, (s) => s.done);
    expect(done.requests).toMatchObject({ total: 6, complete: 6, failed: 0, cancelled: 0, unfinished: 0, retried: 0 });
    expect(done.doubleStarts).toBe(0);
    expect(done.startedMoreThanOnce).toBe(0);
    expect(done.invariantViolations).toEqual([]);
    expect(done.transitionViolations).toBe(0);
    expect(done.instances.created).toBeGreaterThan(0);
    expect(done.instances.created).toBeLessThanOrEqual(3);
    // TimeoutIdle (5 s in the generated config): the daemon destroys what it no longer needs.
    await waitForStatus(w.summaryFile, 'idle instances to be shut down', 60_000, (s) => s.instances.live === 0);

    expect(await serve.stop('SIGTERM', 20_000)).toEqual({ code: 0, signal: null });
    expect(serve.stderr).toContain('"msg":"dispatcher stopped; instances and containers left for the next dispatcher"');
    checkLogs(serve, w);
    expect(await w.proc.stop('SIGTERM', 20_000)).toEqual({ code: 0, signal: null });
  });

  it('survives SIGKILL and SIGTERM mid-run: the next daemon adopts VMs and running containers; nothing lost or run twice', { timeout: TEST_MS }, async () => {
    // Longer containers so that both stops land while containers run.
    const w = await startWorld('workload.0.runtime=10s');
    const first = startServe(w, 'first');
    const running = await waitForStatus(w.summaryFile, 'containers to run', WORKLOAD_MS, (s) => s.containers.Running >= 2);
    first.signal('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    checkLogs(first, w);
    const startsAtKill = running.crunchRunStarts;

    // The second daemon finds the containers already running instead of starting them again.
    const second = startServe(w, 'second');
    await second.waitForStderr(/"msg":"dispatcher started"/, READY_MS);
    const adopted = await waitForStatus(w.summaryFile, 'more containers to start or finish', WORKLOAD_MS, (s) => s.requests.complete + s.containers.Running > startsAtKill);
    expect(adopted.startedMoreThanOnce).toBe(0);
    // A graceful stop leaves VMs and containers alone: with no dispatcher, nothing changes.
    expect(await second.stop('SIGTERM', 20_000)).toEqual({ code: 0, signal: null });
    checkLogs(second, w);
    const stoppedAt = (await waitForStatus(w.summaryFile, 'a status after the stop', 10_000, (s) => s.elapsedSeconds > adopted.elapsedSeconds)).elapsedSeconds;
    const s1 = await waitForStatus(w.summaryFile, 'a status after the stop', 10_000, (s) => s.elapsedSeconds > stoppedAt);
    const s2 = await waitForStatus(w.summaryFile, 'a status 2 s later', 10_000, (s) => s.elapsedSeconds > s1.elapsedSeconds + 2);
    expect(s1.instances.live).toBeGreaterThan(0);
    expect(s2.instances.live).toBe(s1.instances.live);
    expect(s2.requests.cancelled).toBe(0);
    expect(s2.containers.Running + s2.containers.Complete).toBeGreaterThanOrEqual(s1.containers.Running + s1.containers.Complete);

    const third = startServe(w, 'third');
    const done = await waitForStatus(w.summaryFile, 'every container to complete', WORKLOAD_MS, (s) => s.done);
    expect(done.requests).toMatchObject({ total: 6, complete: 6, failed: 0, cancelled: 0, unfinished: 0, retried: 0 });
    expect(done.doubleStarts).toBe(0);
    expect(done.startedMoreThanOnce).toBe(0);
    expect(done.crunchRunStarts).toBe(6);
    expect(done.invariantViolations).toEqual([]);
    expect(done.transitionViolations).toBe(0);
    expect(done.instances.created).toBeLessThanOrEqual(3);
    expect(await third.stop('SIGTERM', 20_000)).toEqual({ code: 0, signal: null });
    checkLogs(third, w);
  });

  it('serves /metrics that promtool accepts, and the management API as documented, with its token only', { timeout: TEST_MS }, async () => {
    const w = await startWorld();
    const serve = startServe(w, 'mgmt');
    await waitForStatus(w.summaryFile, 'containers to run', WORKLOAD_MS, (s) => s.containers.Running >= 1);
    const base = w.managementUrl;

    // Authentication: none -> 401, wrong -> 403, right -> 200, on every kind of route.
    for (const path of ['/arvados/v1/dispatch/instances', '/arvados/v1/dispatch/containers', '/metrics', '/_health/ping']) {
      expect((await get(base + path)).status, path).toBe(401);
      expect((await get(base + path, 'wrong0token0value')).status, path).toBe(403);
      expect((await get(base + path, w.managementToken)).status, path).toBe(200);
    }
    // The controller's token is not the management token.
    expect((await get(`${base}/arvados/v1/dispatch/instances`, w.systemRootToken)).status).toBe(403);
    expect(JSON.parse((await get(`${base}/_health/ping`, w.managementToken)).text)).toEqual({ health: 'OK' });

    const instances = JSON.parse((await get(`${base}/arvados/v1/dispatch/instances`, w.managementToken)).text) as { items: Record<string, unknown>[] };
    expect(instances.items.length).toBeGreaterThan(0);
    for (const i of instances.items) {
      expect(Object.keys(i).sort()).toEqual(
        ['address', 'arvados_instance_type', 'idle_behavior', 'instance', 'last_busy', 'last_container_uuid', 'price', 'provider_instance_type', 'running_container_uuids', 'worker_state'].sort(),
      );
      expect(i).toMatchObject({ arvados_instance_type: 'm5.large', provider_instance_type: 'm5.large', price: 0.096, idle_behavior: 'run' });
      expect(['unknown', 'booting', 'idle', 'running', 'shutdown']).toContain(i['worker_state']);
      // The VM's SSH server on loopback ('' for the instant before it listens).
      expect(i['address']).toMatch(/^(127\.0\.0\.1:\d+)?$/);
    }
    expect(instances.items.some((i) => i['worker_state'] === 'running' && Array.isArray(i['running_container_uuids']) && (i['running_container_uuids'] as unknown[]).length > 0)).toBe(true);
    const queue = JSON.parse((await get(`${base}/arvados/v1/dispatch/containers`, w.managementToken)).text) as { items: { container: { uuid: string } }[] };
    expect(queue.items.length).toBeGreaterThan(0);
    expect(queue.items[0]?.container.uuid).toMatch(/^zzzzz-dz642-/);

    // The admin CLI reads the same config and lists the same instances.
    const list = spawnSync(process.execPath, [BIN, 'instance', 'list', '--config', w.configFile], { encoding: 'utf8', timeout: 30_000 });
    expect(list.status, list.stderr).toBe(0);
    const ids = instances.items.map((i) => i['instance']).filter((id) => id !== '');
    for (const id of ids) expect(list.stdout).toContain(String(id));

    const metrics = await get(`${base}/metrics`, w.managementToken);
    expect(metrics.text).toContain('arvados_dispatchcloud_instances_total');
    expect(metrics.text).toContain('arvados_dispatchcloud_driver_operations');
    expect(metrics.text).toMatch(/^arvados_version_running\{version="\d+\.\d+\.\d+"\} 1$/m);
    if (existsSync(PROMTOOL) || process.env['CI'] !== undefined) {
      const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: metrics.text, encoding: 'utf8', timeout: 15_000 });
      expect(r.error).toBeUndefined();
      // 0 clean, 3 lint findings only; 1 would mean the text does not parse.
      expect([0, 3]).toContain(r.status);
      // The reference's names break two naming lints; we keep its names (docs/operations.md).
      const allowed = [/counter metrics should have "_total" suffix$/, /non-counter metrics should not have "_total" suffix$/];
      for (const f of `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '')) {
        expect(allowed.some((re) => re.test(f.trim())), `unexpected promtool finding: ${f}`).toBe(true);
      }
    }

    expect(await serve.stop('SIGTERM', 20_000)).toEqual({ code: 0, signal: null });
    checkLogs(serve, w);
  });

  it('serves https with the configured certificate, reloads it on SIGHUP, and logs text lines', { timeout: TEST_MS }, async () => {
    const w = await startWorld();
    const a = makeSelfSignedCert(dir, 'e2e-a');
    const b = makeSelfSignedCert(dir, 'e2e-b');
    const certFile = join(dir, 'e2e-served.crt');
    const keyFile = join(dir, 'e2e-served.key');
    await copyFile(a.certFile, certFile);
    await copyFile(a.keyFile, keyFile);
    const doc = parse(await readFile(w.configFile, 'utf8')) as { Clusters: { zzzzz: Record<string, Record<string, unknown>> } };
    const cluster = doc.Clusters.zzzzz;
    const port = new URL(w.managementUrl).port;
    cluster['Services'] = { ...cluster['Services'], DispatchCloud: { InternalURLs: { [`https://127.0.0.1:${port}`]: {} } } };
    cluster['TLS'] = { ...cluster['TLS'], Certificate: `file://${certFile}`, Key: `file://${keyFile}` };
    cluster['SystemLogs'] = { ...cluster['SystemLogs'], Format: 'text' };
    const configFile = join(dir, 'config-https.yml');
    await writeFile(configFile, stringify(doc));

    const serve = new Proc('serve(https)', ['serve', '--config', configFile]);
    await serve.waitForStderr(/ msg="dispatcher started" .*Listen="https:\/\/127\.0\.0\.1:\d+"/, READY_MS);
    const ping = (ca: string) => pingHttps(Number(port), w.managementToken, ca);
    const pemA = await readFile(a.certFile, 'utf8');
    const pemB = await readFile(b.certFile, 'utf8');
    expect(await ping(pemA)).toEqual({ body: '{"health":"OK"}\n', fingerprint: new X509Certificate(pemA).fingerprint256 });
    await expect(get(`http://127.0.0.1:${port}/_health/ping`, w.managementToken)).rejects.toThrow();

    await copyFile(b.certFile, certFile);
    await copyFile(b.keyFile, keyFile);
    serve.signal('SIGHUP');
    await serve.waitForStderr(/ msg="TLS certificate reloaded" /, READY_MS);
    expect((await ping(pemB)).fingerprint).toBe(new X509Certificate(pemB).fingerprint256);

    // The admin CLI trusts the new certificate through NODE_EXTRA_CA_CERTS (TLS.Insecure is off).
    const list = spawnSync(process.execPath, [BIN, 'instance', 'list', '--config', configFile], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: b.certFile } });
    expect(list.status, list.stderr).toBe(0);
    const untrusted = spawnSync(process.execPath, [BIN, 'instance', 'list', '--config', configFile], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } });
    expect(untrusted.status).toBe(1);
    expect(untrusted.stderr).toContain('TLS.Insecure');

    expect(await serve.stop('SIGTERM', 20_000)).toEqual({ code: 0, signal: null });
    expect(serve.stderr).not.toContain(w.systemRootToken);
    expect(serve.stderr).not.toContain(w.managementToken);
    for (const line of serve.stderr.split('\n').filter((l) => l !== '')) {
      expect(line, 'a text log line').toMatch(/^time="[^"]+Z" level=(debug|info|warn|error) msg=/);
    }
  });
});
