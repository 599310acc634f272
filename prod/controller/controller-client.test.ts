import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, afterEach } from 'vitest';
import { parseJson } from '../../core/domain/json.js';
import { RecordError } from '../../core/domain/record-error.js';
import { ControllerError, TransientError } from '../../core/ports/errors.js';
import { EventEngine } from '../../sim/engine/event-engine.js';
import { StubController } from '../../sim/controller/stub-controller.js';
import { StubHttpServer, type RequestInfo } from '../../sim/controller/http-server.js';
import { requestSpec } from '../../sim/controller/stub-fixtures.js';
import { ControllerClient, type ControllerClientOptions } from './controller-client.js';
import { TEST_TLS_CERT, TEST_TLS_KEY } from './test-tls.fixture.js';

const TOKEN = 'secrettoken0123456789';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function stubServer(opts: Partial<ControllerClientOptions> = {}) {
  const clock = new EventEngine(1_000_000);
  const stub = new StubController({ clock, priorityMode: 'as-given' });
  const log: RequestInfo[] = [];
  const server = new StubHttpServer({
    stub,
    tokens: { [TOKEN]: { authUuid: stub.dispatcherAuthUuid, admin: true }, readonlytoken: { authUuid: 'zzzzz-gj3su-00000000reader0', admin: false } },
    onRequest: (i) => log.push(i),
  });
  const url = await server.start();
  const client = new ControllerClient({ baseUrl: url, token: TOKEN, clock, maxConcurrentRequests: 0, ...opts });
  cleanups.push(() => server.close(), () => client.close());
  return { stub, server, url, client, log, clock };
}

/** A raw server for what the stub never does (hang, garbage, capture). */
async function rawServer(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${port}/`;
}

function clientFor(url: string, opts: Partial<ControllerClientOptions> = {}): ControllerClient {
  const c = new ControllerClient({ baseUrl: url, token: TOKEN, clock: new EventEngine(), maxConcurrentRequests: 0, ...opts });
  cleanups.push(() => c.close());
  return c;
}

describe('ControllerClient over HTTP', () => {
  it('sends short queries as GET and long ones as POST with X-Http-Method-Override', async () => {
    const { stub, client, log } = await stubServer();
    const cs = Array.from({ length: 60 }, (_, i) => stub.submitRequest(requestSpec(`r${i}`)));
    await client.listContainers({ filters: [['uuid', 'in', [cs[0]!.uuid]]] });
    expect(log.at(-1)).toMatchObject({ method: 'GET', override: undefined, path: '/arvados/v1/containers' });
    expect(log.at(-1)!.queryLength).toBeGreaterThan(0);
    const got = await client.listContainers({ filters: [['uuid', 'in', cs.map((c) => c.uuid)]], order: ['uuid'], limit: 1000 });
    expect(got).toHaveLength(60);
    expect(log.at(-1)).toMatchObject({ method: 'POST', override: 'GET', path: '/arvados/v1/containers', queryLength: 0 });
  });

  it('sends the bearer token, a request id, and exact bigint filters', async () => {
    let seen: http.IncomingHttpHeaders = {};
    let query = new URLSearchParams();
    const url = await rawServer((req, res) => {
      seen = req.headers;
      query = new URL(req.url ?? '/', 'http://x').searchParams;
      res.end('{"items":[]}');
    });
    const c = clientFor(url);
    await c.listContainers({ filters: [['priority', '>', 999999999999999999n]], order: ['priority desc', 'uuid'], limit: 7, offset: 14 });
    expect(seen.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen['x-request-id']).toMatch(/^req-[0-9a-f]{20}$/);
    expect(query.get('filters')).toBe('[["priority",">",999999999999999999]]');
    expect(parseJson(query.get('filters')!)).toEqual([['priority', '>', 999999999999999999n]]);
    expect(query.get('order')).toBe('priority desc,uuid');
    expect(query.get('limit')).toBe('7');
    expect(query.get('offset')).toBe('14');
    expect(query.get('count')).toBe('none');
    expect(JSON.parse(query.get('select')!)).toContain('scheduling_parameters');
  });

  it('sends updates as PUT with a container form field', async () => {
    let body = '';
    let method = '';
    const url = await rawServer((req, res) => {
      method = req.method ?? '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end('{"uuid":"zzzzz-dz642-000000000000000","state":"Cancelled","priority":0}'));
    });
    const got = await clientFor(url).update('zzzzz-dz642-000000000000000', { state: 'Cancelled', runtimeStatus: { error: 'no' } });
    expect(method).toBe('PUT');
    expect(new URLSearchParams(body).get('container')).toBe('{"state":"Cancelled","runtime_status":{"error":"no"}}');
    expect(got.state).toBe('Cancelled');
  });

  it('answers 401 for a bad token without leaking the token', async () => {
    const { url } = await stubServer();
    const bad = clientFor(url, { token: 'wrongtoken12345' });
    const err = await bad.currentAuthorizationUuid().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControllerError);
    expect(err).toMatchObject({ status: 401, message: expect.stringContaining('Not logged in') });
    expect(String((err as Error).message)).not.toContain('wrongtoken12345');
  });

  it('answers 403 for a token that may not dispatch', async () => {
    const { url } = await stubServer();
    const ro = clientFor(url, { token: 'readonlytoken' });
    expect(await ro.currentAuthorizationUuid()).toBe('zzzzz-gj3su-00000000reader0');
    await expect(ro.listContainers({ filters: [] })).rejects.toMatchObject({ status: 403 });
  });

  it("puts the API's errors array in the message", async () => {
    const { stub, client } = await stubServer();
    const c = stub.submitRequest(requestSpec('r', 0));
    const err = (await client.lock(c.uuid).catch((e: unknown) => e)) as ControllerError;
    expect(err.status).toBe(422);
    expect(err.message).toMatch(/^locking container zzzzz-dz642-0{15}: 422 Unprocessable Entity: .*cannot lock when priority<=0/);
  });

  it('maps a non-JSON error page to a ControllerError with its status', async () => {
    const url = await rawServer((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html><body>Bad gateway</body></html>');
    });
    await expect(clientFor(url).listContainers({ filters: [] })).rejects.toMatchObject({ status: 502, kind: 'controller' });
  });

  it('is a TransientError when the port is closed', async () => {
    const url = await rawServer((_req, res) => res.end('{}'));
    const closed = url.replace(/:\d+\//, ':1/');
    const err = await clientFor(closed).currentAuthorizationUuid().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('is a TransientError on timeout', async () => {
    const url = await rawServer(() => {
      // never answers
    });
    const err = await clientFor(url, { timeoutMs: 100 }).currentAuthorizationUuid().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/no complete response within 100 ms/);
  });

  it('is a TransientError for garbage or an invalid record in a 200', async () => {
    const url = await rawServer((req, res) => {
      if (req.url?.includes('/lock')) res.end('{"uuid":"zzzzz-dz642-000000000000000","state":"Sleeping"}');
      else res.end('<html>');
    });
    const c = clientFor(url);
    await expect(c.listContainers({ filters: [] })).rejects.toBeInstanceOf(TransientError);
    const err = (await c.lock('zzzzz-dz642-000000000000000').catch((e: unknown) => e)) as TransientError;
    expect(err).toBeInstanceOf(TransientError);
    expect(err.cause).toBeInstanceOf(RecordError);
    expect(err.message).toContain('state');
  });

  it('refuses a malformed uuid before sending anything', async () => {
    const { client, log } = await stubServer();
    await expect(client.getContainer('../../users/current')).rejects.toMatchObject({ status: 404 });
    expect(log).toHaveLength(0);
  });

  it('records last503 from the client clock', async () => {
    const { stub, client, clock } = await stubServer();
    stub.setUnavailable(0, 2_000_000);
    await expect(client.currentAuthorizationUuid()).rejects.toMatchObject({ status: 503 });
    expect(client.last503()).toBe(clock.now());
  });

  it('validates its options', () => {
    const clock = new EventEngine();
    expect(() => new ControllerClient({ baseUrl: 'ftp://x', token: 't', clock })).toThrow(/http or https/);
    expect(() => new ControllerClient({ baseUrl: 'https://x', token: '', clock })).toThrow(/token/);
    expect(() => new ControllerClient({ baseUrl: 'controller.example:443', token: 't', clock })).not.toThrow();
  });

  it('accepts a self-signed certificate only when insecure', async () => {
    const server = https.createServer({ key: TEST_TLS_KEY, cert: TEST_TLS_CERT }, (_req, res) => {
      res.end('{"uuid":"zzzzz-gj3su-000000000000000"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await expect(clientFor(url).currentAuthorizationUuid()).rejects.toBeInstanceOf(TransientError);
    expect(await clientFor(url, { insecure: true }).currentAuthorizationUuid()).toBe('zzzzz-gj3su-000000000000000');
  });
});
