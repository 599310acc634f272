import { describe, it, expect, afterEach } from 'vitest';
import { parseJson } from '../../core/domain/json.js';
import { EventEngine } from '../engine/event-engine.js';
import { StubHttpServer } from './http-server.js';
import { StubController } from './stub-controller.js';
import { requestSpec } from './stub-fixtures.js';

const servers: StubHttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve() {
  const stub = new StubController({ clock: new EventEngine(1_000_000), priorityMode: 'as-given' });
  const server = new StubHttpServer({ stub, tokens: { tok: { authUuid: stub.dispatcherAuthUuid, admin: true } } });
  servers.push(server);
  const url = await server.start();
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(new URL(path, url), { ...init, headers: { Authorization: 'Bearer tok', ...(init.headers ?? {}) } });
    return { status: res.status, body: parseJson(await res.text()) as Record<string, unknown> };
  };
  return { stub, url, call };
}

describe('StubHttpServer', () => {
  it('listens on loopback only', async () => {
    const { url } = await serve();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('answers 401 without a valid token', async () => {
    const { url } = await serve();
    for (const auth of [undefined, 'Bearer nope', 'Basic tok']) {
      const res = await fetch(new URL('arvados/v1/containers', url), { headers: auth === undefined ? {} : { Authorization: auth } });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ errors: ['Not logged in'] });
    }
  });

  it('writes priorities as exact JSON integers and honours select', async () => {
    const { stub, call } = await serve();
    const c = stub.submitRequest(requestSpec('r', 999999999999999999n));
    const sel = encodeURIComponent(JSON.stringify(['uuid', 'priority']));
    const { status, body } = await call(`arvados/v1/containers/${c.uuid}?select=${sel}`);
    expect(status).toBe(200);
    expect(body).toEqual({ uuid: c.uuid, priority: 999999999999999999n });
    const full = await call(`arvados/v1/containers/${c.uuid}`);
    expect(full.body).toMatchObject({ kind: 'arvados#container', state: 'Queued', lock_count: 0, started_at: null, mounts: { '/tmp': { kind: 'tmp', capacity: 1 << 30 } } });
    expect(full.body['created_at']).toBe('1970-01-01T00:16:40.000000000Z');
  });

  it('takes parameters from a JSON body, a JSON order list and the method override', async () => {
    const { stub, call } = await serve();
    const a = stub.submitRequest(requestSpec('a', 1));
    const b = stub.submitRequest(requestSpec('b', 2));
    const { body } = await call('arvados/v1/containers', {
      method: 'POST',
      headers: { 'X-Http-Method-Override': 'GET', 'Content-Type': 'application/json' },
      body: JSON.stringify({ filters: [['uuid', 'in', [a.uuid, b.uuid]]], order: ['priority desc'], limit: 5 }),
    });
    expect((body['items'] as { uuid: string }[]).map((x) => x.uuid)).toEqual([b.uuid, a.uuid]);
    expect(body['limit']).toBe(5);
  });

  it('answers errors as {"errors": [...]} with the right status', async () => {
    const { stub, call } = await serve();
    const c = stub.submitRequest(requestSpec('r', 1));
    expect((await call('arvados/v1/nothing')).status).toBe(404);
    expect((await call(`arvados/v1/containers/${c.uuid}/lock`)).status).toBe(404);
    const badSel = await call(`arvados/v1/containers?select=${encodeURIComponent('["password"]')}`);
    expect(badSel).toMatchObject({ status: 422, body: { errors: [expect.stringContaining('invalid attribute')] } });
    expect((await call('arvados/v1/containers?filters=[[')).status).toBe(422);
    expect((await call('arvados/v1/containers?limit=-3')).status).toBe(422);
    const put = await call(`arvados/v1/containers/${c.uuid}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ container: '{"state":"Running"}' }).toString(),
    });
    expect(put).toMatchObject({ status: 422, body: { errors: [expect.stringContaining('cannot change state from Queued to Running')] } });
    const badState = await call(`arvados/v1/containers/${c.uuid}`, { method: 'PUT', body: new URLSearchParams({ container: '{"state":"Gone"}' }) });
    expect(badState.status).toBe(422);
    expect(stub.snapshot(c.uuid)!.state).toBe('Queued');
  });
});
