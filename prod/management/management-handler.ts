// The management HTTP API (the reference's dispatcher.go routes plus what its service wrapper
// answers first: /metrics, /metrics.json and /_health/ping), on node:http.
//
// Auth, as the reference: with no ManagementToken every API route answers 403, /metrics is
// public and /_health/ping answers 404 "disabled"; with one, a request without a token gets
// 401 and a wrong token 403 (plain-text bodies). API errors are JSON {"errors":[...]}.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { stringifyJson } from '../../core/domain/json.js';
import { NotFoundError } from '../../core/ports/errors.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import { compareViews } from '../../core/pool/instance-view.js';
import { IDLE_BEHAVIORS, type IdleBehavior, type WorkerPool } from '../../core/pool/pool-api.js';
import { metricsJsonText } from '../metrics/metrics-json.js';
import { instanceJson, queueEntJson } from './api-json.js';
import { checkHealthToken, checkLiteralToken } from './auth.js';
import type { QueueView, QueueViewEntry } from './queue-view.js';

/** The reference's schedQueueRefresh: the queue snapshot served is at most this old. */
export const QUEUE_SNAPSHOT_MAX_AGE_MS = 1000;

/** Form bodies larger than this are refused (413); the API's parameters are short. */
const MAX_BODY_BYTES = 64 * 1024;

/** Prefix of every kill reason that comes through this API, as the reference writes it. */
export const KILL_REASON_PREFIX = 'via management API: ';

export interface ManagementHandlerOptions {
  /** Clusters.<id>.ManagementToken; '' = not configured. */
  readonly token: string;
  readonly pool: WorkerPool;
  readonly queue: QueueView;
  /** Served at /metrics and /metrics.json. */
  readonly registry: Registry;
  /** The /_health/ping check: resolves when healthy, rejects with the reason when not. */
  readonly health: () => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type ManagementHandler = (req: IncomingMessage, res: ServerResponse) => void;

type Params = URLSearchParams;
type Route = (params: Params, res: ServerResponse) => Promise<void> | void;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A request listener for node:http serving the management API. It never throws: a failure
 * inside a route is logged and answered with 500.
 */
export function createManagementHandler(opts: ManagementHandlerOptions): ManagementHandler {
  const { token, pool, queue, registry, health, clock } = opts;
  const logger = opts.logger.child({ Component: 'management-api' });

  let cache: { at: number; entries: readonly QueueViewEntry[] } | null = null;
  const queueEntries = (): readonly QueueViewEntry[] => {
    const now = clock.now();
    if (cache === null || now - cache.at >= QUEUE_SNAPSHOT_MAX_AGE_MS || now < cache.at) {
      cache = { at: now, entries: queue.entries() };
    }
    return cache.entries;
  };

  const requireParam = (params: Params, name: string): string => {
    const v = params.get(name) ?? '';
    if (v === '') throw new HttpError(400, `${name} parameter not provided`);
    return v;
  };

  const setIdleBehavior = (behavior: IdleBehavior): Route => (params, res) => {
    const id = requireParam(params, 'instance_id');
    try {
      pool.setIdleBehavior(id, behavior);
    } catch (e) {
      if (e instanceof NotFoundError) throw new HttpError(404, 'requested instance does not exist');
      throw e;
    }
    logger.info('idle behavior set', { Instance: id, IdleBehavior: behavior });
    ok(res);
  };

  const routes: Record<string, Record<string, Route>> = {
    '/arvados/v1/dispatch/containers': {
      GET: (_p, res) => sendJson(res, 200, { items: queueEntries().map(queueEntJson) }),
    },
    '/arvados/v1/dispatch/container': {
      GET: (params, res) => {
        const uuid = params.get('container_uuid') ?? '';
        const ent = queueEntries().find((e) => e.container.uuid === uuid);
        if (ent === undefined) throw new HttpError(404, 'container not found');
        sendJson(res, 200, queueEntJson(ent));
      },
    },
    '/arvados/v1/dispatch/containers/kill': {
      POST: (params, res) => {
        const uuid = requireParam(params, 'container_uuid');
        const reason = KILL_REASON_PREFIX + (params.get('reason') ?? '');
        if (!pool.killContainer(uuid, reason)) throw new HttpError(404, 'container not found');
        logger.info('container kill requested', { ContainerUUID: uuid, Reason: reason });
        ok(res);
      },
    },
    '/arvados/v1/dispatch/instances': {
      GET: (_p, res) => {
        const views = [...pool.snapshot().instances].sort(compareViews);
        sendJson(res, 200, { items: views.map(instanceJson) });
      },
    },
    '/arvados/v1/dispatch/instances/kill': {
      POST: (params, res) => {
        const id = requireParam(params, 'instance_id');
        const reason = KILL_REASON_PREFIX + (params.get('reason') ?? '');
        try {
          pool.killInstance(id, reason);
        } catch (e) {
          if (e instanceof NotFoundError) throw new HttpError(404, 'instance not found');
          throw e;
        }
        logger.info('instance kill requested', { Instance: id, Reason: reason });
        ok(res);
      },
    },
  };
  for (const b of IDLE_BEHAVIORS) routes[`/arvados/v1/dispatch/instances/${b}`] = { POST: setIdleBehavior(b) };

  const serveMetrics = async (path: string, req: IncomingMessage, res: ServerResponse, query: Params): Promise<void> => {
    if (token !== '' && !authorized(checkLiteralToken(req, query, token), res)) return;
    const json = path === '/metrics.json';
    const body = json ? await metricsJsonText(registry) : await registry.metrics();
    res.writeHead(200, { 'Content-Type': json ? 'application/json' : registry.contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const serveHealth = async (path: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (path !== '/_health/ping') return plain(res, 404, '404 page not found');
    if (token === '') return plain(res, 404, 'disabled');
    const auth = checkHealthToken(req, token);
    if (auth === 'missing') return plain(res, 401, 'authorization required');
    if (auth === 'wrong') return plain(res, 403, 'authorization error');
    try {
      await health();
      sendJson(res, 200, { health: 'OK' });
    } catch (e) {
      sendJson(res, 200, { health: 'ERROR', error: e instanceof Error ? e.message : String(e) });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://management.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if ((method === 'GET' || method === 'HEAD') && (path === '/metrics' || path === '/metrics.json')) {
      return serveMetrics(path, req, res, url.searchParams);
    }
    if (path.startsWith('/_health/')) return serveHealth(path, req, res);
    if (token === '') return plain(res, 403, 'Management API authentication is not configured');
    const auth = checkLiteralToken(req, url.searchParams, token);
    if (!authorized(auth, res)) return;

    const byMethod = routes[path];
    if (byMethod === undefined) return plain(res, 404, '404 page not found');
    const route = byMethod[method];
    if (route === undefined) {
      res.setHeader('Allow', [...Object.keys(byMethod), 'OPTIONS'].join(', '));
      return plain(res, 405, 'Method Not Allowed');
    }
    const params = await formParams(req, url.searchParams);
    await route(params, res);
  };

  return (req, res) => {
    const started = clock.now();
    const remote = req.socket.remoteAddress;
    // The path only: a query string may carry api_token.
    res.on('finish', () =>
      logger.debug('management API request', {
        Method: req.method,
        Path: (req.url ?? '').split('?')[0],
        Status: res.statusCode,
        RemoteAddr: remote,
        DurationMs: clock.now() - started,
      }),
    );
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) {
        if (!res.headersSent) sendJson(res, e.status, { errors: [e.message] });
        else res.end();
        return;
      }
      logger.error('serving management API request', { Method: req.method, Path: (req.url ?? '').split('?')[0], err: e });
      if (!res.headersSent) sendJson(res, 500, { errors: [e instanceof Error ? e.message : String(e)] });
      else res.destroy();
    });
  };
}

function authorized(outcome: 'ok' | 'missing' | 'wrong', res: ServerResponse): boolean {
  if (outcome === 'missing') plain(res, 401, 'Unauthorized');
  else if (outcome === 'wrong') plain(res, 403, 'Forbidden');
  return outcome === 'ok';
}

/**
 * Go's FormValue: for a POST with a form body, body values first, then the query string's.
 * @throws HttpError 413 when the body is too large, 400 when it cannot be read
 */
async function formParams(req: IncomingMessage, query: Params): Promise<Params> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (req.method !== 'POST' || type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return query;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const merged = new URLSearchParams();
  for (const [k, v] of body) merged.append(k, v);
  for (const [k, v] of query) merged.append(k, v);
  return merged;
}

function ok(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

/** As Go's json.Encoder: a trailing newline; bigints (priorities) exact. */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${stringifyJson(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** As Go's http.Error: plain text with a trailing newline. */
function plain(res: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
