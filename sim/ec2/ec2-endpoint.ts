import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InstanceType } from '../../core/domain/instance-type.js';
import type { InstancePrice, InstanceSet } from '../../core/ports/instance-set.js';
import { KeyPairActions, SpotActions } from './ec2-account-actions.js';
import { ec2DefaultMessage, ec2Status, toEc2ApiError } from './ec2-errors.js';
import { InstanceActions } from './ec2-instance-actions.js';
import { Ec2ApiError, parseQuery, type QueryTree } from './query-params.js';
import { ec2ErrorResponse, ec2Response, type XmlValue } from './xml.js';

export interface Ec2EndpointOptions {
  /** The cloud served: any InstanceSet (the simulated cloud, a fake). */
  readonly instanceSet: InstanceSet;
  /** Configured types: RunInstances maps InstanceType (+ spot market) back to one of them. */
  readonly types: readonly InstanceType[];
  /** Default us-east-1; every instance is placed in zone `<region>a`. */
  readonly region?: string;
  /** Wall or virtual time in ms (launch times, spot price history); default the system clock. */
  readonly now?: () => number;
  /**
   * Spot price history of a preemptible type, oldest first. Default: what the served set's
   * spot instances report (`priceHistory`), else the type's Price, constant. Only a given
   * history makes RunInstances refuse a MaxPrice below it (SpotMaxPriceTooLow).
   */
  readonly spotPrices?: (type: InstanceType) => readonly InstancePrice[];
  /** Listen port on 127.0.0.1; default 0 (any free port). */
  readonly port?: number;
  /**
   * How many of the latest requests `requests` keeps at least (default 10,000; it holds at
   * most twice as many), so that a world served for days does not grow without bound.
   */
  readonly keepRequests?: number;
}

/** One request as the endpoint received it, for assertions in tests. */
export interface RecordedRequest {
  readonly action: string;
  /** The flat form parameters (`Filter.1.Name` ...). */
  readonly params: Readonly<Record<string, string>>;
  /** The EC2 error code answered, or '' on success. */
  readonly errorCode: string;
}

interface Injected {
  readonly code: string;
  readonly message: string;
  readonly status: number;
  remaining: number;
}

const MAX_BODY = 1 << 20;

/**
 * The simulated cloud over HTTP on loopback, speaking the EC2 Query API (form-encoded
 * actions, XML responses, EC2 error documents and codes), so that the production driver,
 * the AWS SDK and the AWS CLI run against it unchanged.
 *
 * Actions: RunInstances, DescribeInstances, DescribeInstanceStatus, CreateTags,
 * TerminateInstances, ImportKeyPair, DescribeKeyPairs, DescribeSpotPriceHistory. Anything
 * else answers InvalidAction.
 *
 * Authentication: any request carrying a SigV4 Authorization header is accepted; the
 * signature is NOT verified (any access key and secret work). Loopback only.
 */
export class Ec2Endpoint {
  /** The latest requests (see `keepRequests`), in arrival order. */
  readonly requests: RecordedRequest[] = [];
  private readonly keepRequests: number;
  private readonly injected = new Map<string, Injected[]>();
  private readonly instances: InstanceActions;
  private readonly keyPairs = new KeyPairActions();
  private readonly spot: SpotActions;
  private requestCount = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    opts: Ec2EndpointOptions,
    now: () => number,
    zone: string,
  ) {
    this.keepRequests = opts.keepRequests ?? 10_000;
    this.spot = new SpotActions({ types: opts.types, zone, now, ...(opts.spotPrices !== undefined ? { spotPrices: opts.spotPrices } : {}) });
    this.instances = new InstanceActions({
      instanceSet: opts.instanceSet,
      types: opts.types,
      zone,
      now,
      keyMaterial: (name) => this.keyPairs.material(name),
      spotPrice: (t) => this.spot.current(t),
      observeSpot: (t, h) => this.spot.observe(t, h),
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res);
    });
  }

  /** Starts listening on 127.0.0.1. */
  static async start(opts: Ec2EndpointOptions): Promise<Ec2Endpoint> {
    const keep = opts.keepRequests;
    if (keep !== undefined && (!Number.isSafeInteger(keep) || keep < 1)) throw new RangeError(`keepRequests must be a positive integer, got ${keep}`);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const region = opts.region ?? 'us-east-1';
    return new Ec2Endpoint(server, `http://127.0.0.1:${port}`, opts, opts.now ?? (() => Date.now()), `${region}a`);
  }

  /**
   * Makes the next `times` calls of `action` fail with EC2 error `code` before they reach
   * the cloud (status and message default to EC2's own for that code).
   */
  injectError(action: string, code: string, opts: { message?: string; status?: number; times?: number } = {}): void {
    const list = this.injected.get(action) ?? [];
    list.push({ code, message: opts.message ?? ec2DefaultMessage(code), status: opts.status ?? ec2Status(code), remaining: opts.times ?? 1 });
    this.injected.set(action, list);
  }

  private record(r: RecordedRequest): void {
    this.requests.push(r);
    // Trimmed in batches, so that keeping the window costs O(1) per request on average.
    if (this.requests.length >= 2 * this.keepRequests) this.requests.splice(0, this.requests.length - this.keepRequests);
  }

  /** Requests of one action, in arrival order. */
  calls(action: string): RecordedRequest[] {
    return this.requests.filter((r) => r.action === action);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `00000000-0000-4000-8000-${(++this.requestCount).toString(16).padStart(12, '0')}`;
    let action = '';
    let flat: Record<string, string> = {};
    try {
      const params = await readParams(req);
      flat = Object.fromEntries(params);
      action = params.get('Action') ?? '';
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('AWS4-HMAC-SHA256 ')) {
        throw new Ec2ApiError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
      }
      if (action === '') throw new Ec2ApiError('MissingAction', 'The request must contain the parameter Action');
      const inj = this.takeInjected(action);
      if (inj !== undefined) throw new Ec2ApiError(inj.code, inj.message, inj.status);
      const members = await this.dispatch(action, parseQuery(params));
      this.record({ action, params: flat, errorCode: '' });
      send(res, 200, ec2Response(action, requestId, members), requestId);
    } catch (e) {
      const err = toEc2ApiError(e, `serving ${action || 'request'}`);
      this.record({ action, params: flat, errorCode: err.code });
      send(res, err.status, ec2ErrorResponse(err.code, err.message, requestId), requestId);
    }
  }

  private takeInjected(action: string): Injected | undefined {
    const list = this.injected.get(action);
    const first = list?.[0];
    if (list === undefined || first === undefined) return undefined;
    if (--first.remaining <= 0) list.shift();
    return first;
  }

  private async dispatch(action: string, q: QueryTree): Promise<Record<string, XmlValue>> {
    switch (action) {
      case 'RunInstances':
        return this.instances.runInstances(q);
      case 'DescribeInstances':
        return this.instances.describeInstances(q);
      case 'DescribeInstanceStatus':
        return this.instances.describeInstanceStatus(q);
      case 'CreateTags':
        return this.instances.createTags(q);
      case 'TerminateInstances':
        return this.instances.terminateInstances(q);
      case 'ImportKeyPair':
        return this.keyPairs.importKeyPair(q);
      case 'DescribeKeyPairs':
        return this.keyPairs.describeKeyPairs(q);
      case 'DescribeSpotPriceHistory':
        return this.spot.describeSpotPriceHistory(q);
      default:
        throw new Ec2ApiError('InvalidAction', `The action ${action} is not valid for this web service (the simulated EC2 endpoint).`);
    }
  }
}

/** Form body of a POST, or the query string of a GET. */
async function readParams(req: IncomingMessage): Promise<URLSearchParams> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET') return url.searchParams;
  if (req.method !== 'POST') throw new Ec2ApiError('InvalidHttpRequest', `The HTTP method ${req.method ?? ''} is not supported`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Ec2ApiError('RequestEntityTooLarge', 'The request body is too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, xml: string, requestId: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml;charset=UTF-8',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': requestId,
  });
  res.end(xml);
}
