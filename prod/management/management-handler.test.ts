import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../core/ports/clock.js';
import { FakeMgmtPool, mgmtInstanceType, mgmtView } from '../../test/fakes/mgmt-pool.js';
import { FakeQueueView, mgmtContainer, mgmtEntry } from '../../test/fakes/mgmt-queue.js';
import { createLogger } from '../logging/pino-logger.js';
import { PromMetrics } from '../metrics/prom-metrics.js';
import { goTime } from './api-json.js';
import { createManagementHandler } from './management-handler.js';
import { startManagementServer, type RunningServer } from './management-server.js';

const TOKEN = 'mgmt7token7for7tests7abcdefghijklmnopqrstuv';

class StepClock implements Clock {
  t = Date.UTC(2026, 5, 1, 12, 0, 0);
  now(): number {
    return this.t;
  }
  setTimer(): { cancel(): void } {
    return { cancel() {} };
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
}

interface World {
  server: RunningServer;
  base: string;
  pool: FakeMgmtPool;
  queue: FakeQueueView;
  clock: StepClock;
  logs: () => string;
  healthError: { value: Error | null };
}

async function startWorld(token: string): Promise<World> {
  const pool = new FakeMgmtPool();
  const queue = new FakeQueueView();
  const clock = new StepClock();
  const metrics = new PromMetrics();
  metrics.gauge('at_quota', 'Whether the pool is at quota').set({}, 1);
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  const logger = createLogger({ stream, level: 'debug', secrets: [TOKEN], clock });
  const healthError: { value: Error | null } = { value: null };
  const handler = createManagementHandler({
    token,
    pool,
    queue,
    registry: metrics.registry,
    health: () => (healthError.value === null ? Promise.resolve() : Promise.reject(healthError.value)),
    clock,
    logger,
  });
  const server = await startManagementServer(handler, { host: '127.0.0.1', port: 0 });
  return { server, base: `http://127.0.0.1:${server.port}`, pool, queue, clock, logs: () => chunks.join(''), healthError };
}

const bearer = { Authorization: `Bearer ${TOKEN}` };

async function call(w: World, method: string, path: string, headers: Record<string, string> = bearer, body?: string) {
  const res = await fetch(w.base + path, { method, headers, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
}

describe('management API without a ManagementToken', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld('');
  });
  afterAll(() => w.server.close());

  it('answers 403 to every API route, with or without a token', async () => {
    for (const [m, p] of [
      ['GET', '/arvados/v1/dispatch/instances'],
      ['GET', '/arvados/v1/dispatch/containers'],
      ['POST', '/arvados/v1/dispatch/instances/kill?instance_id=i-1'],
      ['GET', '/nowhere'],
    ] as const) {
      const r = await call(w, m, p);
      expect(r.status).toBe(403);
      expect(r.text).toBe('Management API authentication is not configured\n');
    }
    expect(w.pool.killInstanceCalls).toEqual([]);
  });

  it('serves /metrics without auth and answers /_health/ping 404 "disabled", as the reference wrapper', async () => {
    const m = await call(w, 'GET', '/metrics', {});
    expect(m.status).toBe(200);
    expect(m.text).toContain('arvados_dispatchcloud_at_quota 1');
    const h = await call(w, 'GET', '/_health/ping');
    expect([h.status, h.text]).toEqual([404, 'disabled\n']);
  });
});

describe('management API with a ManagementToken', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld(TOKEN);
  });
  afterAll(() => w.server.close());
  beforeEach(() => {
    w.pool.views = [];
    w.pool.known.clear();
    w.pool.failWith = null;
    w.pool.killContainerCalls.length = 0;
    w.pool.killInstanceCalls.length = 0;
    w.pool.idleBehaviorCalls.length = 0;
    w.queue.entriesList = [];
    w.clock.t += 10_000; // past the snapshot cache
    w.healthError.value = null;
  });

  describe('auth', () => {
    it('401 without a token, 403 with a wrong one, plain-text bodies', async () => {
      const none = await call(w, 'GET', '/arvados/v1/dispatch/instances', {});
      expect([none.status, none.text, none.type]).toEqual([401, 'Unauthorized\n', 'text/plain; charset=utf-8']);
      for (const h of [{ Authorization: 'Bearer nope' }, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: `Bearer ${TOKEN.slice(1)}` }]) {
        const r = await call(w, 'GET', '/arvados/v1/dispatch/instances', h);
        expect([r.status, r.text]).toEqual([403, 'Forbidden\n']);
      }
      // An Authorization header with an unknown scheme carries no token.
      const odd = await call(w, 'GET', '/arvados/v1/dispatch/instances', { Authorization: `Token ${TOKEN}` });
      expect(odd.status).toBe(401);
    });

    it('accepts the token from Bearer, OAuth2, Basic password, api_token and the cookie', async () => {
      const path = '/arvados/v1/dispatch/instances';
      const basic = Buffer.from(`anyone:${TOKEN}`).toString('base64');
      const cookie = Buffer.from(TOKEN).toString('base64url');
      for (const [p, h] of [
        [path, { Authorization: `Bearer ${TOKEN}` }],
        [path, { Authorization: `OAuth2 ${TOKEN}` }],
        [path, { Authorization: `Basic ${basic}` }],
        [`${path}?api_token=${TOKEN}`, {}],
        [`${path}?api_token=wrong&api_token=${TOKEN}`, {}],
        [path, { Cookie: `other=1; arvados_api_token=${cookie}` }],
      ] as const) {
        const r = await call(w, 'GET', p, h);
        expect(r.status, JSON.stringify(h)).toBe(200);
      }
    });

    it('/metrics and /metrics.json need the token: 401, 403, 200', async () => {
      expect((await call(w, 'GET', '/metrics', {})).status).toBe(401);
      expect((await call(w, 'GET', '/metrics', { Authorization: 'Bearer x' })).status).toBe(403);
      const m = await call(w, 'GET', '/metrics');
      expect(m.status).toBe(200);
      expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(m.text).toContain('# TYPE arvados_dispatchcloud_at_quota gauge');
      const head = await call(w, 'HEAD', '/metrics');
      expect([head.status, head.text]).toEqual([200, '']);
      const j = await call(w, 'GET', `/metrics.json?api_token=${TOKEN}`, {});
      expect(j.status).toBe(200);
      expect(j.type).toBe('application/json');
      expect(JSON.parse(j.text)).toEqual([{ name: 'arvados_dispatchcloud_at_quota', help: 'Whether the pool is at quota', type: 'GAUGE', metric: [{ gauge: { value: 1 } }] }]);
    });

    it('/_health/ping needs exactly "Authorization: Bearer <token>"', async () => {
      const missing = await call(w, 'GET', `/_health/ping?api_token=${TOKEN}`, {});
      expect([missing.status, missing.text]).toEqual([401, 'authorization required\n']);
      const oauth = await call(w, 'GET', '/_health/ping', { Authorization: `OAuth2 ${TOKEN}` });
      expect([oauth.status, oauth.text]).toEqual([403, 'authorization error\n']);
      const good = await call(w, 'GET', '/_health/ping');
      expect([good.status, good.text, good.type]).toEqual([200, '{"health":"OK"}\n', 'application/json']);
      w.healthError.value = new Error('reading runner binary: ENOENT');
      const bad = await call(w, 'GET', '/_health/ping');
      expect([bad.status, bad.text]).toEqual([200, '{"health":"ERROR","error":"reading runner binary: ENOENT"}\n']);
      expect((await call(w, 'GET', '/_health/other')).status).toBe(404);
    });
  });

  describe('routes', () => {
    it('unknown path 404, wrong method 405 with Allow', async () => {
      expect((await call(w, 'GET', '/arvados/v1/dispatch/nothing')).status).toBe(404);
      const r = await call(w, 'GET', '/arvados/v1/dispatch/instances/hold?instance_id=i-1');
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('POST, OPTIONS');
      expect(w.pool.idleBehaviorCalls).toEqual([]);
    });

    it('GET containers: QueueEnt JSON with the reference keys, exact big priority, scheduler order', async () => {
      const big = 1_000_000_000_000_000_001n; // > 2^53: a double would round it
      const gpuType = mgmtInstanceType('g4dn.xlarge', {
        price: 0.526,
        preemptible: true,
        gpu: { stack: 'cuda', driverVersion: '12.0', hardwareTarget: '7.5', deviceCount: 1, vram: 16 * 2 ** 30 },
      });
      w.queue.entriesList = [
        mgmtEntry('zzzzz-dz642-000000000000002', {
          container: mgmtContainer('zzzzz-dz642-000000000000002', { priority: big, state: 'Locked' }),
          instanceTypes: [gpuType],
          resources: { vcpus: 4, ram: 17179869184, scratch: 1000, gpus: 1, gpuVram: 2 ** 34 },
          schedulingStatus: 'Waiting for a g4dn.xlarge instance to boot and be ready to accept work.',
        }),
        mgmtEntry('zzzzz-dz642-000000000000001'),
      ];
      const r = await call(w, 'GET', '/arvados/v1/dispatch/containers');
      expect(r.status).toBe(200);
      expect(r.type).toBe('application/json');
      expect(r.text).toContain('"priority":1000000000000000001,');
      expect(r.text.endsWith('}\n')).toBe(true);
      const body = JSON.parse(r.text) as { items: Record<string, unknown>[] };
      expect(body.items.map((i) => (i['container'] as { uuid: string }).uuid)).toEqual(['zzzzz-dz642-000000000000002', 'zzzzz-dz642-000000000000001']);
      const first = body.items[0] as Record<string, unknown>;
      expect(Object.keys(first)).toEqual(['container', 'instance_resources', 'instance_types', 'first_seen_at', 'scheduling_status']);
      expect(first['instance_resources']).toEqual({ VCPUs: 4, RAM: 17179869184, Scratch: 1000, GPUs: 1, GPUVRAM: 17179869184 });
      expect(first['instance_types']).toEqual([
        {
          ProviderType: 'g4dn.xlarge',
          VCPUs: 2,
          RAM: 8589934592,
          IncludedScratch: 32000000000,
          AddedScratch: 0,
          Price: 0.526,
          Preemptible: true,
          GPU: { Stack: 'cuda', DriverVersion: '12.0', HardwareTarget: '7.5', DeviceCount: 1, VRAM: 17179869184 },
        },
      ]);
      expect(first['first_seen_at']).toBe('2026-01-01T00:00:05.25Z');
      expect(first['scheduling_status']).toBe('Waiting for a g4dn.xlarge instance to boot and be ready to accept work.');
      const ctr = first['container'] as Record<string, unknown>;
      expect(ctr).toMatchObject({ uuid: 'zzzzz-dz642-000000000000002', state: 'Locked', container_image: 'd41d8cd98f00b204e9800998ecf8427e+0', created_at: '2026-01-01T00:00:00.000000000Z' });
      expect(ctr['runtime_constraints']).toMatchObject({ vcpus: 1, ram: 1073741824 });
    });

    it('GET containers with an empty queue gives an empty list', async () => {
      const r = await call(w, 'GET', '/arvados/v1/dispatch/containers');
      expect(r.text).toBe('{"items":[]}\n');
    });

    it('serves a queue snapshot at most 1 s old (the reference schedQueueRefresh)', async () => {
      w.queue.entriesList = [mgmtEntry('zzzzz-dz642-000000000000001')];
      const before = w.queue.reads;
      await call(w, 'GET', '/arvados/v1/dispatch/containers');
      w.queue.entriesList = [];
      w.clock.t += 999;
      const cached = await call(w, 'GET', '/arvados/v1/dispatch/containers');
      expect((JSON.parse(cached.text) as { items: unknown[] }).items).toHaveLength(1);
      expect((await call(w, 'GET', '/arvados/v1/dispatch/container?container_uuid=zzzzz-dz642-000000000000001')).status).toBe(200);
      expect(w.queue.reads - before).toBe(1);
      w.clock.t += 1;
      const fresh = await call(w, 'GET', '/arvados/v1/dispatch/containers');
      expect(fresh.text).toBe('{"items":[]}\n');
      expect(w.queue.reads - before).toBe(2);
    });

    it('GET container: one QueueEnt, 404 "container not found" otherwise', async () => {
      w.queue.entriesList = [mgmtEntry('zzzzz-dz642-000000000000001', { container: mgmtContainer('zzzzz-dz642-000000000000001', { priority: 9223372036854775807n }) })];
      const r = await call(w, 'GET', '/arvados/v1/dispatch/container?container_uuid=zzzzz-dz642-000000000000001');
      expect(r.status).toBe(200);
      expect(r.text.startsWith('{"container":{"uuid":"zzzzz-dz642-000000000000001","state":"Queued","priority":9223372036854775807,')).toBe(true);
      for (const q of ['?container_uuid=zzzzz-dz642-000000000000009', '']) {
        const nf = await call(w, 'GET', `/arvados/v1/dispatch/container${q}`);
        expect([nf.status, nf.text, nf.type]).toEqual([404, '{"errors":["container not found"]}\n', 'application/json']);
      }
    });

    it('POST containers/kill: 400 without uuid, 404 unknown, 200 with the prefixed reason (query or form body)', async () => {
      const miss = await call(w, 'POST', '/arvados/v1/dispatch/containers/kill');
      expect([miss.status, miss.text]).toEqual([400, '{"errors":["container_uuid parameter not provided"]}\n']);
      const nf = await call(w, 'POST', '/arvados/v1/dispatch/containers/kill?container_uuid=zzzzz-dz642-000000000000009');
      expect([nf.status, nf.text]).toEqual([404, '{"errors":["container not found"]}\n']);
      w.pool.known.add('zzzzz-dz642-000000000000001');
      const okq = await call(w, 'POST', '/arvados/v1/dispatch/containers/kill?container_uuid=zzzzz-dz642-000000000000001&reason=stuck');
      expect([okq.status, okq.text]).toEqual([200, '']);
      const okb = await call(
        w,
        'POST',
        '/arvados/v1/dispatch/containers/kill',
        { ...bearer, 'Content-Type': 'application/x-www-form-urlencoded' },
        'container_uuid=zzzzz-dz642-000000000000001&reason=from+body',
      );
      expect(okb.status).toBe(200);
      expect(w.pool.killContainerCalls.slice(-2)).toEqual([
        { uuid: 'zzzzz-dz642-000000000000001', reason: 'via management API: stuck' },
        { uuid: 'zzzzz-dz642-000000000000001', reason: 'via management API: from body' },
      ]);
    });

    it('GET instances: InstanceView JSON, sorted by id then type, pending creates with null running list', async () => {
      const busy = Date.UTC(2026, 5, 1, 11, 59, 30, 500);
      w.pool.views = [
        mgmtView({ instanceId: 'i-b', address: '10.0.0.2', state: 'running', runningContainerUuids: ['zzzzz-dz642-000000000000001', 'zzzzz-dz642-000000000000002'], lastContainerUuid: 'zzzzz-dz642-000000000000002', lastBusy: busy }),
        mgmtView({ instanceId: 'i-a', address: '10.0.0.1', idleBehavior: 'hold', state: 'idle' }),
        mgmtView({ instanceId: '', state: 'booting', instanceType: mgmtInstanceType('m5.xlarge', { price: 0.192 }), price: 0.192 }),
      ];
      const r = await call(w, 'GET', '/arvados/v1/dispatch/instances');
      expect(r.status).toBe(200);
      expect(r.text).toBe(
        `${JSON.stringify({
          items: [
            { instance: '', address: '', price: 0.192, arvados_instance_type: 'm5.xlarge', provider_instance_type: 'm5.xlarge', last_container_uuid: '', last_busy: '0001-01-01T00:00:00Z', running_container_uuids: null, worker_state: 'booting', idle_behavior: 'run' },
            { instance: 'i-a', address: '10.0.0.1', price: 0.096, arvados_instance_type: 'm5.large', provider_instance_type: 'm5.large', last_container_uuid: '', last_busy: '0001-01-01T00:00:00Z', running_container_uuids: [], worker_state: 'idle', idle_behavior: 'hold' },
            {
              instance: 'i-b',
              address: '10.0.0.2',
              price: 0.096,
              arvados_instance_type: 'm5.large',
              provider_instance_type: 'm5.large',
              last_container_uuid: 'zzzzz-dz642-000000000000002',
              last_busy: '2026-06-01T11:59:30.5Z',
              running_container_uuids: ['zzzzz-dz642-000000000000001', 'zzzzz-dz642-000000000000002'],
              worker_state: 'running',
              idle_behavior: 'run',
            },
          ],
        })}\n`,
      );
    });

    it.each(['hold', 'drain', 'run'] as const)('POST instances/%s: 400 without id, 404 unknown, 200 sets the behaviour', async (b) => {
      w.pool.views = [mgmtView({ instanceId: 'i-1' })];
      const miss = await call(w, 'POST', `/arvados/v1/dispatch/instances/${b}`);
      expect([miss.status, miss.text]).toEqual([400, '{"errors":["instance_id parameter not provided"]}\n']);
      const nf = await call(w, 'POST', `/arvados/v1/dispatch/instances/${b}?instance_id=i-9`);
      expect([nf.status, nf.text]).toEqual([404, '{"errors":["requested instance does not exist"]}\n']);
      const ok = await call(w, 'POST', `/arvados/v1/dispatch/instances/${b}?instance_id=i-1`);
      expect([ok.status, ok.text]).toEqual([200, '']);
      expect(w.pool.idleBehaviorCalls.at(-1)).toEqual({ id: 'i-1', behavior: b });
      expect(w.pool.views[0]?.idleBehavior).toBe(b);
    });

    it('POST instances/kill: 400 without id, 404 "instance not found", 200 with the prefixed reason', async () => {
      w.pool.views = [mgmtView({ instanceId: 'i-1' })];
      expect((await call(w, 'POST', '/arvados/v1/dispatch/instances/kill')).status).toBe(400);
      const nf = await call(w, 'POST', '/arvados/v1/dispatch/instances/kill?instance_id=i-9');
      expect([nf.status, nf.text]).toEqual([404, '{"errors":["instance not found"]}\n']);
      const ok = await call(w, 'POST', '/arvados/v1/dispatch/instances/kill?instance_id=i-1&reason=bad%20disk');
      expect(ok.status).toBe(200);
      const noReason = await call(w, 'POST', '/arvados/v1/dispatch/instances/kill?instance_id=i-1');
      expect(noReason.status).toBe(200);
      expect(w.pool.killInstanceCalls.slice(-2)).toEqual([
        { id: 'i-1', reason: 'via management API: bad disk' },
        { id: 'i-1', reason: 'via management API: ' },
      ]);
    });

    it('a pool failure is a 500 with a JSON error, logged', async () => {
      w.pool.failWith = new Error('pool exploded');
      const r = await call(w, 'POST', '/arvados/v1/dispatch/instances/kill?instance_id=i-1');
      expect([r.status, r.text]).toEqual([500, '{"errors":["pool exploded"]}\n']);
      expect(w.logs()).toContain('"msg":"serving management API request"');
    });

    it('refuses an oversized form body with 413', async () => {
      const r = await call(w, 'POST', '/arvados/v1/dispatch/instances/kill', { ...bearer, 'Content-Type': 'application/x-www-form-urlencoded' }, `reason=${'x'.repeat(70_000)}`);
      expect(r.status).toBe(413);
    });
  });

  it('no log line carries the token (after requests that sent it every way)', () => {
    const logs = w.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(TOKEN);
  });
});

describe('goTime', () => {
  it('formats as Go marshals time.Time', () => {
    expect(goTime(0)).toBe('0001-01-01T00:00:00Z');
    expect(goTime(Date.UTC(2026, 0, 1))).toBe('2026-01-01T00:00:00Z');
    expect(goTime(Date.UTC(2026, 0, 1, 0, 0, 0, 120))).toBe('2026-01-01T00:00:00.12Z');
    expect(goTime(Date.UTC(2026, 0, 1, 0, 0, 0, 7))).toBe('2026-01-01T00:00:00.007Z');
  });
});
