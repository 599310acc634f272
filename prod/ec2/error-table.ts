import type { InstanceType } from '../../core/domain/instance-type.js';
import {
  CapacityError,
  NotFoundError,
  QuotaError,
  RateLimitError,
  TransientError,
} from '../../core/ports/errors.js';

/**
 * The one table from EC2 error codes to the core's error kinds (like smithy's
 * service-error-classification and karpenter-provider-aws pkg/errors). Everything the driver
 * knows about EC2 error codes is here; the rest of the driver switches on the class.
 */
export type Ec2ErrorClass =
  | { readonly kind: 'rate-limit' }
  | { readonly kind: 'quota' }
  | { readonly kind: 'capacity'; readonly scope: 'type' | 'quota-group' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'transient' };

interface Entry {
  readonly cls: Ec2ErrorClass;
  /** When set, the code only has this class if the message matches. */
  readonly message?: RegExp;
}

const RATE: Entry = { cls: { kind: 'rate-limit' } };
const QUOTA: Entry = { cls: { kind: 'quota' } };
const TRANSIENT: Entry = { cls: { kind: 'transient' } };
const NOT_FOUND: Entry = { cls: { kind: 'not-found' } };

export const EC2_ERROR_TABLE: Readonly<Record<string, Entry>> = Object.freeze({
  // aws-sdk-go-v2 retry.DefaultThrottleErrorCodes, as Arvados uses them.
  Throttling: RATE,
  ThrottlingException: RATE,
  ThrottledException: RATE,
  RequestThrottledException: RATE,
  TooManyRequestsException: RATE,
  ProvisionedThroughputExceededException: RATE,
  TransactionInProgressException: RATE,
  RequestLimitExceeded: RATE,
  BandwidthLimitExceeded: RATE,
  LimitExceededException: RATE,
  RequestThrottled: RATE,
  SlowDown: RATE,
  PriorRequestNotComplete: RATE,
  EC2ThrottledException: RATE,
  // Account-wide limits: create nothing more until instances go away.
  InstanceLimitExceeded: QUOTA,
  InsufficientAddressCapacity: QUOTA,
  InsufficientFreeAddressesInSubnet: QUOTA,
  InsufficientVolumeCapacity: QUOTA,
  MaxSpotInstanceCountExceeded: QUOTA,
  // The vCPU quota of one quota group (instance family, spot or on-demand).
  VcpuLimitExceeded: { cls: { kind: 'capacity', scope: 'quota-group' } },
  InsufficientInstanceCapacity: { cls: { kind: 'capacity', scope: 'type' } },
  Unsupported: { cls: { kind: 'capacity', scope: 'type' }, message: /requested instance type/ },
  'InvalidInstanceID.NotFound': NOT_FOUND,
  // Server-side failures worth retrying (not in Arvados' table, which returns them raw;
  // the core treats unclassified errors as transient anyway).
  InternalError: TRANSIENT,
  InternalFailure: TRANSIENT,
  ServiceUnavailable: TRANSIENT,
  Unavailable: TRANSIENT,
});

/** The class of an EC2 error code, or null for codes the table does not know. */
export function classifyEc2Code(code: string, message: string): Ec2ErrorClass | null {
  const e = Object.hasOwn(EC2_ERROR_TABLE, code) ? EC2_ERROR_TABLE[code] : undefined;
  if (e === undefined) return null;
  if (e.message !== undefined && !e.message.test(message)) return null;
  return e.cls;
}

/**
 * Errors after which RunInstances is worth retrying in another of the configured subnets
 * (Arvados `isErrorSubnetSpecific`).
 */
export function isSubnetSpecific(code: string, message: string): boolean {
  if (code.includes('Subnet')) return true;
  if (code === 'InsufficientInstanceCapacity' || code === 'InsufficientVolumeCapacity' || code === 'Unsupported') {
    return true;
  }
  return code.includes('InvalidParameter') && /( subnet |sufficient free [Ii]pv[46] addresses)/.test(message);
}

/** The code and message of an error thrown by the AWS SDK; code '' for non-service errors. */
export function ec2ErrorParts(e: unknown): { code: string; message: string; status: number | undefined } {
  if (typeof e !== 'object' || e === null) return { code: '', message: String(e), status: undefined };
  const o = e as { name?: unknown; Code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown }; $fault?: unknown };
  const message = typeof o.message === 'string' ? o.message : '';
  const status = typeof o.$metadata?.httpStatusCode === 'number' ? o.$metadata.httpStatusCode : undefined;
  // Service errors carry $fault ('client' | 'server'); network errors do not.
  if (o.$fault === undefined) return { code: '', message, status };
  const code = typeof o.Code === 'string' && o.Code !== '' ? o.Code : typeof o.name === 'string' ? o.name : '';
  return { code, message, status };
}

/**
 * Exponential back-off for throttled calls: 1 s, doubling to 60 s, reset by a success.
 * One per kind of call (create, list, other), so a throttled list does not delay creates
 * more than EC2 itself does.
 */
export class ThrottleBackoff {
  private last = 0;
  constructor(
    private readonly minMs = 1000,
    private readonly maxMs = 60_000,
  ) {}
  next(): number {
    this.last = this.last === 0 ? this.minMs : Math.min(this.last * 2, this.maxMs);
    return this.last;
  }
  reset(): void {
    this.last = 0;
  }
}

export interface ErrorContext {
  /** "creating instance", "listing instances", ... (the "doing X" of the message). */
  readonly doing: string;
  readonly backoff: ThrottleBackoff;
  /** For capacity errors: the type being created and its quota group. */
  readonly type?: InstanceType;
  readonly quotaGroup?: string;
}

/**
 * Maps an error thrown by the AWS SDK to the core's taxonomy. Unknown service codes stay
 * plain errors (message "doing X: Code: message"), which the core treats as transient;
 * network failures (no service response) become TransientError.
 */
export function toDispatchError(e: unknown, ctx: ErrorContext): Error {
  const { code, message } = ec2ErrorParts(e);
  const text = code === '' ? `${ctx.doing}: ${message}` : `${ctx.doing}: ${code}: ${message}`;
  if (code === '') return new TransientError(text, { cause: e });
  const cls = classifyEc2Code(code, message);
  if (cls === null) return new Error(text, { cause: e });
  switch (cls.kind) {
    case 'rate-limit':
      return new RateLimitError(text, ctx.backoff.next(), { cause: e });
    case 'quota':
      return new QuotaError(text, { cause: e });
    case 'not-found':
      return new NotFoundError(text, { cause: e });
    case 'transient':
      return new TransientError(text, { cause: e });
    case 'capacity':
      if (ctx.type === undefined) return new TransientError(text, { cause: e });
      if (cls.scope === 'quota-group' && ctx.quotaGroup !== undefined) {
        return new CapacityError(text, { scope: 'quota-group', quotaGroup: ctx.quotaGroup }, { cause: e });
      }
      return new CapacityError(
        text,
        { scope: 'type', providerType: ctx.type.providerType, preemptible: ctx.type.preemptible },
        { cause: e },
      );
  }
}
