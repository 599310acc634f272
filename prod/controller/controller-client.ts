import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { isContainerUuid, UUID_PATTERN, type Container } from '../../core/domain/container.js';
import { parseContainerRecord } from '../../core/domain/container-record.js';
import { parseJson, type JsonValue } from '../../core/domain/json.js';
import type { Clock } from '../../core/ports/clock.js';
import type { ControllerApi, ContainerPatch, ListParams } from '../../core/ports/controller.js';
import { ControllerError, TransientError } from '../../core/ports/errors.js';
import { encodeParams } from './form-params.js';
import { httpError, networkError } from './errors.js';
import { RequestLimiter } from './request-limiter.js';
import { POLL_SELECT } from '../../core/queue/container-queue.js';

/** The fields the queue reads (reference §3.2), plus the lock fields, which cost little. */
export const DEFAULT_SELECT: readonly string[] = [...POLL_SELECT, 'locked_by_uuid', 'lock_count'];

export interface ControllerClientOptions {
  /** Services.Controller.ExternalURL; https is assumed when the scheme is missing. */
  readonly baseUrl: string;
  /** SystemRootToken. Sent as a bearer token, never logged or put in messages. */
  readonly token: string;
  /** For `last503()` and the limiter's quiet period (prod: SystemClock). */
  readonly clock: Clock;
  /** TLS.Insecure: accept any server certificate. */
  readonly insecure?: boolean;
  /** Per request, from sending to the end of the body. Default 5 minutes (API.RequestTimeout). */
  readonly timeoutMs?: number;
  /** API.MaxConcurrentRequests; the limiter allows a quarter of it, as the Go SDK does. 0 disables the limiter. Default 64. */
  readonly maxConcurrentRequests?: number;
  /** GET parameters longer than this go in a POST body with X-Http-Method-Override: GET. Default 1000 (the Go SDK's). */
  readonly maxQueryLength?: number;
  /** Largest response body accepted. Default 256 MiB. */
  readonly maxResponseBytes?: number;
}

/**
 * ControllerApi over the Arvados REST API, as arvados-dispatch-cloud calls it (reference
 * §3.1-3.2). No automatic retries, like the Go dispatcher's client (Timeout=0 there): the
 * scheduler sees errors at once and recovers at the next poll.
 *
 * Errors: every HTTP error status is a ControllerError with that status and the API's
 * `errors` text; no response (refused, reset, TLS, timeout) is a TransientError; a 2xx
 * body that is not JSON or not a valid container record is a TransientError whose `cause`
 * is the JsonSyntaxError or RecordError (core/domain), so callers can tell it apart.
 */
export class ControllerClient implements ControllerApi {
  private readonly base: URL;
  private readonly token: string;
  private readonly clock: Clock;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxQuery: number;
  private readonly maxBody: number;
  private readonly limiter: RequestLimiter | null;
  private last503At = 0;

  constructor(opts: ControllerClientOptions) {
    const raw = /^[a-z][a-z0-9+.-]*:\/\//i.test(opts.baseUrl) ? opts.baseUrl : `https://${opts.baseUrl}`;
    let base: URL;
    try {
      base = new URL(raw);
    } catch {
      throw new Error(`configuring controller client: Services.Controller.ExternalURL ${JSON.stringify(opts.baseUrl)} is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`configuring controller client: Services.Controller.ExternalURL must be http or https, got ${base.protocol}`);
    }
    if (opts.token === '' || /[\s]/.test(opts.token)) throw new Error('configuring controller client: the token is empty or contains white space');
    this.base = new URL(base.origin + base.pathname.replace(/\/*$/, '/'));
    this.token = opts.token;
    this.clock = opts.clock;
    this.timeoutMs = opts.timeoutMs ?? 5 * 60_000;
    this.maxQuery = opts.maxQueryLength ?? 1000;
    this.maxBody = opts.maxResponseBytes ?? 256 * 1024 * 1024;
    const agentOpts = { keepAlive: true, maxSockets: 256 };
    this.agent = base.protocol === 'https:' ? new https.Agent({ ...agentOpts, rejectUnauthorized: !(opts.insecure ?? false) }) : new http.Agent(agentOpts);
    const max = opts.maxConcurrentRequests ?? 64;
    this.limiter = max > 0 ? new RequestLimiter(this.clock, Math.max(1, Math.floor(max / 4))) : null;
  }

  async currentAuthorizationUuid(): Promise<string> {
    const doing = 'getting current token';
    const body = await this.call('GET', 'arvados/v1/api_client_authorizations/current', {}, doing);
    const uuid = isObject(body) ? body['uuid'] : undefined;
    if (typeof uuid !== 'string' || !UUID_PATTERN.test(uuid)) throw new TransientError(`${doing}: response has no valid uuid`);
    return uuid;
  }

  async listContainers(p: ListParams): Promise<readonly Container[]> {
    const doing = 'listing containers';
    const params: Record<string, unknown> = {
      filters: p.filters,
      select: withDefaults(p.select),
      count: 'none',
    };
    if (p.order !== undefined && p.order.length > 0) params['order'] = p.order.join(',');
    if (p.limit !== undefined) params['limit'] = p.limit;
    if (p.offset !== undefined) params['offset'] = p.offset;
    const body = await this.call('GET', 'arvados/v1/containers', params, doing);
    const items = isObject(body) ? body['items'] : undefined;
    if (!Array.isArray(items)) throw new TransientError(`${doing}: response has no items list`);
    return items.map((it, i) => this.record(it, `items.${i}`, doing));
  }

  async getContainer(uuid: string, select?: readonly string[]): Promise<Container> {
    const doing = `getting container ${uuid}`;
    const body = await this.call('GET', this.containerPath(uuid, doing), { select: withDefaults(select) }, doing);
    return this.record(body, '', doing);
  }

  async lock(uuid: string): Promise<Container> {
    const doing = `locking container ${uuid}`;
    return this.record(await this.call('POST', `${this.containerPath(uuid, doing)}/lock`, {}, doing), '', doing);
  }

  async unlock(uuid: string): Promise<Container> {
    const doing = `unlocking container ${uuid}`;
    return this.record(await this.call('POST', `${this.containerPath(uuid, doing)}/unlock`, {}, doing), '', doing);
  }

  async update(uuid: string, patch: ContainerPatch): Promise<Container> {
    const doing = `updating container ${uuid}`;
    const container: Record<string, unknown> = {};
    if (patch.state !== undefined) container['state'] = patch.state;
    if (patch.runtimeStatus !== undefined) container['runtime_status'] = patch.runtimeStatus;
    const body = await this.call('PUT', this.containerPath(uuid, doing), { container }, doing);
    return this.record(body, '', doing);
  }

  last503(): number {
    return this.last503At;
  }

  /** Closes idle keep-alive connections (for shutdown and tests). */
  close(): void {
    this.agent.destroy();
  }

  private containerPath(uuid: string, doing: string): string {
    // The uuid goes into the URL path: anything else could address another resource.
    if (!isContainerUuid(uuid)) throw new ControllerError(`${doing}: not a container uuid`, 404);
    return `arvados/v1/containers/${uuid}`;
  }

  private record(raw: unknown, path: string, doing: string): Container {
    try {
      return parseContainerRecord(raw, path);
    } catch (e) {
      throw new TransientError(`${doing}: invalid container record: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  private async call(method: 'GET' | 'POST' | 'PUT', path: string, params: Record<string, unknown>, doing: string): Promise<JsonValue> {
    const url = new URL(path, this.base);
    const encoded = encodeParams(params);
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      'X-Request-Id': `req-${randomBytes(10).toString('hex')}`,
      Accept: 'application/json',
    };
    let sendMethod: string = method;
    let body = '';
    if (method === 'GET' && encoded.length < this.maxQuery) {
      url.search = encoded;
    } else {
      // Long GETs would exceed URL limits of proxies and servers.
      if (method === 'GET') {
        sendMethod = 'POST';
        headers['X-Http-Method-Override'] = 'GET';
      }
      body = encoded;
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    if (this.limiter !== null) await this.limiter.acquire();
    let status: number | undefined;
    try {
      const res = await this.send(url, sendMethod, headers, body);
      status = res.status;
      if (res.status === 503) this.last503At = this.clock.now();
      if (res.status < 200 || res.status >= 300) throw httpError(doing, res.status, res.body);
      try {
        return parseJson(res.body);
      } catch (e) {
        throw new TransientError(`${doing}: response is not JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    } finally {
      this.limiter?.release(status);
    }
  }

  private send(url: URL, method: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
    const doing = `${method} ${url.pathname}`;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(e instanceof ControllerError || e instanceof TransientError ? e : networkError(doing, e));
      };
      const req = mod.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxBody) fail(new TransientError(`${doing}: response larger than ${this.maxBody} bytes`));
          else chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      const timer = setTimeout(() => fail(new TransientError(`${doing}: no complete response within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('error', fail);
      req.end(body);
    });
  }
}

function withDefaults(select: readonly string[] | undefined): string[] {
  const out = [...DEFAULT_SELECT];
  for (const s of select ?? []) if (!out.includes(s)) out.push(s);
  return out;
}

function isObject(v: JsonValue): v is { [key: string]: JsonValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

