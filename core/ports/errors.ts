/**
 * The error taxonomy at the port boundary. Adapters map provider codes to these kinds in
 * one table each (prod/ec2/error-table.ts, prod/controller/errors.ts); core switches on
 * `kind`, never on message text. Messages read "doing X: cause".
 */
export type ErrorKind =
  | 'rate-limit'
  | 'quota'
  | 'capacity'
  | 'not-found'
  | 'transient'
  | 'command'
  | 'not-implemented'
  | 'no-address'
  | 'host-key'
  | 'timeout'
  | 'controller'
  | 'constraints-not-satisfiable';

export abstract class DispatchError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Every request to this API will fail for `retryAfterMs` from when the error was raised. */
export class RateLimitError extends DispatchError {
  readonly kind = 'rate-limit' as const;
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The account is at a quota: create no more instances until some are destroyed. */
export class QuotaError extends DispatchError {
  readonly kind = 'quota' as const;
}

export type CapacityScope =
  | { readonly scope: 'type'; readonly providerType: string; readonly preemptible: boolean }
  | { readonly scope: 'quota-group'; readonly quotaGroup: string }
  | { readonly scope: 'all' };

/** The provider has no capacity: wait before creating more of this type, group, or any. */
export class CapacityError extends DispatchError {
  readonly kind = 'capacity' as const;
  constructor(
    message: string,
    readonly capacity: CapacityScope,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class NotFoundError extends DispatchError {
  readonly kind = 'not-found' as const;
}

/** Worth retrying later; nothing more is known. */
export class TransientError extends DispatchError {
  readonly kind = 'transient' as const;
}

/** A remote command ran and exited non-zero. */
export class CommandError extends DispatchError {
  readonly kind = 'command' as const;
  constructor(
    message: string,
    readonly exitCode: number,
    readonly stdout: Buffer,
    readonly stderr: Buffer,
  ) {
    super(message);
  }
}

/** The implementation has no mechanism for this (e.g. driver-side host key checks). */
export class NotImplementedError extends DispatchError {
  readonly kind = 'not-implemented' as const;
}

/** The instance has no address yet. */
export class NoAddressError extends DispatchError {
  readonly kind = 'no-address' as const;
}

/** The SSH host key was refused. */
export class HostKeyError extends DispatchError {
  readonly kind = 'host-key' as const;
}

/** An operation did not finish within its deadline. */
export class TimeoutError extends DispatchError {
  readonly kind = 'timeout' as const;
}

/**
 * The controller answered with an HTTP error status. 422 = not allowed in this state
 * (e.g. lock when not Queued), 403 = not ours, 404 = no such container, 503 = overloaded.
 */
export class ControllerError extends DispatchError {
  readonly kind = 'controller' as const;
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No configured instance type can run the container; `availableTypes` sorted by price. */
export class ConstraintsNotSatisfiableError extends DispatchError {
  readonly kind = 'constraints-not-satisfiable' as const;
  constructor(
    message: string,
    readonly availableTypes: readonly string[] = [],
  ) {
    super(message);
  }
}

export function isDispatchError(e: unknown): e is DispatchError {
  return e instanceof DispatchError;
}

/** "doing X: cause" for any thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
