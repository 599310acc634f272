import { isDispatchError } from '../../core/ports/errors.js';
import { Ec2ApiError } from './query-params.js';

/** HTTP status EC2 answers each error code with (400 unless listed). */
const STATUS: Readonly<Record<string, number>> = {
  RequestLimitExceeded: 503,
  Unavailable: 503,
  ServiceUnavailable: 503,
  InternalError: 500,
  InternalFailure: 500,
  InsufficientInstanceCapacity: 500,
  InsufficientAddressCapacity: 500,
  InsufficientVolumeCapacity: 500,
  AuthFailure: 401,
  UnauthorizedOperation: 403,
};

/** Messages like EC2's own, for injected errors given without one. */
const MESSAGES: Readonly<Record<string, string>> = {
  RequestLimitExceeded: 'Request limit exceeded.',
  InstanceLimitExceeded: 'You have requested more instances than your current instance limit allows for the specified instance type.',
  VcpuLimitExceeded: 'You have requested more vCPU capacity than your current vCPU limit allows for the instance bucket that the specified instance type belongs to.',
  InsufficientInstanceCapacity: 'We currently do not have sufficient capacity in the Availability Zone you requested.',
  InsufficientFreeAddressesInSubnet: 'The specified subnet does not have enough free addresses to satisfy the request.',
  MaxSpotInstanceCountExceeded: 'Max spot instance count exceeded',
  Unsupported: 'The requested instance type is not supported in your requested Availability Zone.',
  InternalError: 'An internal error has occurred',
};

export function ec2Status(code: string): number {
  return STATUS[code] ?? 400;
}

export function ec2DefaultMessage(code: string): string {
  return MESSAGES[code] ?? `Simulated ${code} error`;
}

/**
 * Maps an error from the served InstanceSet (the core's taxonomy) to the EC2 error the real
 * service would send in that situation, so the SDK surfaces it as it would against AWS.
 * A capacity error scoped to everything has no EC2 code; it becomes the type-scoped one.
 */
export function toEc2ApiError(e: unknown, doing: string): Ec2ApiError {
  if (e instanceof Ec2ApiError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  if (!isDispatchError(e)) return new Ec2ApiError('InternalError', `${doing}: ${detail}`, 500);
  switch (e.kind) {
    case 'rate-limit':
      return new Ec2ApiError('RequestLimitExceeded', `Request limit exceeded. (${detail})`, 503);
    case 'quota':
      return new Ec2ApiError('InstanceLimitExceeded', `${MESSAGES.InstanceLimitExceeded} (${detail})`);
    case 'capacity': {
      const c = (e as { capacity?: { scope?: string } }).capacity;
      if (c?.scope === 'quota-group') return new Ec2ApiError('VcpuLimitExceeded', `${MESSAGES.VcpuLimitExceeded} (${detail})`);
      return new Ec2ApiError('InsufficientInstanceCapacity', `${MESSAGES.InsufficientInstanceCapacity} (${detail})`, 500);
    }
    case 'not-found':
      return new Ec2ApiError('InvalidInstanceID.NotFound', detail);
    default:
      return new Ec2ApiError('InternalError', `${doing}: ${detail}`, 500);
  }
}
