import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTAINER_STATES, type ContainerState } from '../../core/domain/container.js';
import { containerToApi, formatTimestamp } from '../../core/domain/container-record.js';
import { parseJson, stringifyJson, type JsonValue } from '../../core/domain/json.js';
import type { Filter, ListParams } from '../../core/ports/controller.js';
import { ControllerError } from '../../core/ports/errors.js';
import type { ContainerSnapshot } from './records.js';
import type { StubController, StubPatch, StubSession } from './stub-controller.js';

export interface TokenGrant {
  /** The uuid `api_client_authorizations/current` returns; locks are held by it. */
  readonly authUuid: string;
  /** Admin tokens (like SystemRootToken) may lock and update; others only read their identity. */
  readonly admin: boolean;
}

export interface StubHttpServerOptions {
  readonly stub: StubController;
  /** Token → grant. Every other token is answered 401. */
  readonly tokens: Readonly<Record<string, TokenGrant>>;
  /** Default 127.0.0.1: the stub is a test and demo server, never a public one. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Largest request body accepted (default 16 MiB). */
  readonly maxBodyBytes?: number;
  /** Called for each request before it is answered (for tests and traces; never sees the token). */
  readonly onRequest?: (info: RequestInfo) => void;
}

export interface RequestInfo {
  /** The HTTP method on the wire. */
  readonly method: string;
  /** X-Http-Method-Override, when sent. */
  readonly override: string | undefined;
  readonly path: string;
  /** Length of the query string, without the '?'. */
  readonly queryLength: number;
}

/** Every key the stub can return, for `select` validation. */
const FIELDS = new Set([
  'uuid', 'kind', 'state', 'priority', 'locked_by_uuid', 'lock_count', 'runtime_constraints', 'scheduling_parameters',
  'container_image', 'created_at', 'modified_at', 'started_at', 'finished_at', 'mounts', 'exit_code', 'runtime_status',
]);

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves a StubController with the Arvados controller's REST API (the endpoints the
 * dispatcher and crunch-run use, reference §3.1-3.2) over node:http: bearer-token auth,
 * JSON query parameters or a form body, X-Http-Method-Override, exact integer priorities,
 * errors as `{"errors":[...]}` with the controller's status codes.
 */
export class StubHttpServer {
  private readonly server: http.Server;
  private readonly opts: StubHttpServerOptions;
  private readonly sessions = new Map<string, StubSession>();

  constructor(opts: StubHttpServerOptions) {
    this.opts = opts;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // handle() answers every error itself; this is a last resort for a broken socket.
        res.destroy(e instanceof Error ? e : undefined);
      });
    });
  }

  /** Starts listening; resolves with the base URL (`http://127.0.0.1:<port>/`). */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.url;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo | null;
    if (a === null) throw new Error('stub controller server: not listening');
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private session(authUuid: string): StubSession {
    let s = this.sessions.get(authUuid);
    if (s === undefined) this.sessions.set(authUuid, (s = this.opts.stub.session(authUuid)));
    return s;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let status = 200;
    let out: unknown;
    try {
      out = await this.route(req);
    } catch (e) {
      if (e instanceof ControllerError || e instanceof HttpFailure) {
        status = e.status;
        out = { errors: [e.message] };
      } else {
        status = 500;
        out = { errors: [`internal error: ${e instanceof Error ? e.message : String(e)}`] };
      }
    }
    const body = stringifyJson(out);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private async route(req: http.IncomingMessage): Promise<unknown> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const raw = await readBody(req, this.opts.maxBodyBytes ?? 16 * 1024 * 1024);
    const override = req.headers['x-http-method-override'];
    this.opts.onRequest?.({
      method: req.method ?? 'GET',
      override: typeof override === 'string' ? override : undefined,
      path: url.pathname,
      queryLength: url.search.length > 0 ? url.search.length - 1 : 0,
    });
    const method = (typeof override === 'string' && req.method === 'POST' ? override : req.method ?? 'GET').toUpperCase();
    const params = new URLSearchParams(url.search);
    if (raw !== '') {
      const ctype = req.headers['content-type'] ?? '';
      if (ctype.startsWith('application/json')) {
        const obj = parseOr422(raw, 'request body');
        if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new HttpFailure(422, 'request body: expected a JSON object');
        for (const [k, v] of Object.entries(obj)) params.set(k, typeof v === 'string' ? v : stringifyJson(v));
      } else {
        for (const [k, v] of new URLSearchParams(raw)) params.set(k, v);
      }
    }
    const grant = this.authenticate(req);
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/arvados/v1/api_client_authorizations/current' && method === 'GET') {
      const uuid = await this.session(grant.authUuid).currentAuthorizationUuid();
      return { kind: 'arvados#apiClientAuthorization', uuid };
    }
    if (!path.startsWith('/arvados/v1/containers')) throw new HttpFailure(404, `${method} ${path}: path not found`);
    if (!grant.admin) throw new HttpFailure(403, `${method} ${path}: forbidden for a non-admin token`);
    const s = this.session(grant.authUuid);
    const select = optSelect(params);
    if (path === '/arvados/v1/containers' && method === 'GET') {
      const lp = listParams(params);
      const items = await s.listSnapshots(lp);
      return { kind: 'arvados#containerList', offset: lp.offset ?? 0, limit: lp.limit ?? 100, items: items.map((c) => render(c, select)) };
    }
    const m = /^\/arvados\/v1\/containers\/([^/]+)(?:\/(lock|unlock))?$/.exec(path);
    if (m === null) throw new HttpFailure(404, `${method} ${path}: path not found`);
    const uuid = decodeURIComponent(m[1]!);
    const action = m[2];
    if (action !== undefined) {
      if (method !== 'POST') throw new HttpFailure(404, `${method} ${path}: path not found`);
      return render(action === 'lock' ? await s.lock(uuid) : await s.unlock(uuid), select);
    }
    if (method === 'GET') return render(await s.getSnapshot(uuid), select);
    if (method === 'PUT' || method === 'PATCH') return render(await s.update(uuid, patchParam(params)), select);
    throw new HttpFailure(404, `${method} ${path}: path not found`);
  }

  private authenticate(req: http.IncomingMessage): TokenGrant {
    const h = req.headers.authorization ?? '';
    const token = /^(?:Bearer|OAuth2)\s+(\S+)$/i.exec(h)?.[1];
    if (token === undefined || !Object.hasOwn(this.opts.tokens, token)) throw new HttpFailure(401, 'Not logged in');
    return this.opts.tokens[token]!;
  }
}

function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new HttpFailure(413, `request body larger than ${max} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseOr422(text: string, what: string): JsonValue {
  try {
    return parseJson(text);
  } catch (e) {
    throw new HttpFailure(422, `${what}: invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function intParam(params: URLSearchParams, name: string): number | undefined {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[0-9]+$/.test(v)) throw new HttpFailure(422, `${name}: expected a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function optSelect(params: URLSearchParams): readonly string[] | undefined {
  const v = params.get('select');
  if (v === null || v === '') return undefined;
  const sel = parseOr422(v, 'select');
  if (!Array.isArray(sel) || !sel.every((x) => typeof x === 'string')) throw new HttpFailure(422, 'select: expected a list of field names');
  const bad = sel.find((f) => !FIELDS.has(f as string));
  if (bad !== undefined) throw new HttpFailure(422, `select: invalid attribute ${JSON.stringify(bad)}`);
  return sel as string[];
}

function listParams(params: URLSearchParams): ListParams {
  const f = params.get('filters');
  let filters: Filter[] = [];
  if (f !== null && f !== '') {
    const v = parseOr422(f, 'filters');
    if (!Array.isArray(v) || !v.every((x) => Array.isArray(x) && x.length === 3 && typeof x[0] === 'string' && typeof x[1] === 'string')) {
      throw new HttpFailure(422, 'filters: expected a list of [field, operator, value]');
    }
    filters = v as unknown as Filter[];
  }
  let order: string[] | undefined;
  const o = params.get('order');
  if (o !== null && o !== '') {
    if (o.startsWith('[')) {
      const v = parseOr422(o, 'order');
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new HttpFailure(422, 'order: expected a list of strings');
      order = v as string[];
    } else {
      order = o.split(',').map((x) => x.trim());
    }
  }
  const limit = intParam(params, 'limit');
  const offset = intParam(params, 'offset');
  return { filters, ...(order === undefined ? {} : { order }), ...(limit === undefined ? {} : { limit }), ...(offset === undefined ? {} : { offset }) };
}

function patchParam(params: URLSearchParams): StubPatch {
  const raw = params.get('container');
  if (raw === null) throw new HttpFailure(422, 'container: missing');
  const c = parseOr422(raw, 'container');
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new HttpFailure(422, 'container: expected an object');
  const patch: { state?: ContainerState; runtimeStatus?: Record<string, unknown>; exitCode?: number | null } = {};
  const state = c['state'];
  if (state !== undefined) {
    if (typeof state !== 'string' || !(CONTAINER_STATES as readonly string[]).includes(state)) {
      throw new HttpFailure(422, `container.state: expected one of ${CONTAINER_STATES.join(', ')}`);
    }
    patch.state = state as ContainerState;
  }
  const rs = c['runtime_status'];
  if (rs !== undefined) {
    if (rs === null || typeof rs !== 'object' || Array.isArray(rs)) throw new HttpFailure(422, 'container.runtime_status: expected an object');
    patch.runtimeStatus = rs;
  }
  const ec = c['exit_code'];
  if (ec !== undefined) {
    if (ec !== null && (typeof ec !== 'number' || !Number.isInteger(ec))) throw new HttpFailure(422, 'container.exit_code: expected an integer or null');
    patch.exitCode = ec;
  }
  // Other attributes crunch-run sends (log, output, cost, gateway_address...) are not modelled.
  return patch;
}

function time(ms: number | null): string | null {
  return ms === null ? null : formatTimestamp(ms);
}

/** The API's JSON for a container; only the selected keys when `select` is given. */
function render(c: ContainerSnapshot, select: readonly string[] | undefined): Record<string, unknown> {
  const full: Record<string, unknown> = {
    kind: 'arvados#container',
    ...containerToApi(c),
    modified_at: time(c.modifiedAt),
    started_at: time(c.startedAt),
    finished_at: time(c.finishedAt),
  };
  if (select === undefined) return full;
  const out: Record<string, unknown> = {};
  for (const k of select) if (Object.hasOwn(full, k)) out[k] = full[k];
  return out;
}
