import type { InstanceType } from '../domain/instance-type.js';

export type InstanceTags = Readonly<Record<string, string>>;

/**
 * A predicate: whether an instance's tags hold every tag of `filter` as an own property with
 * the same value. Tags come from the cloud, so keys such as `__proto__` or `constructor` are
 * data, never inherited.
 */
export function tagMatcher(filter: InstanceTags): (tags: InstanceTags) => boolean {
  const wanted = Object.entries(filter);
  return (tags) => wanted.every(([k, v]) => Object.hasOwn(tags, k) && tags[k] === v);
}

/** A price in effect from `startTime` (ms since the epoch). */
export interface InstancePrice {
  readonly startTime: number;
  readonly price: number;
}

/**
 * What an executor needs to reach an instance.
 */
export interface ExecutorTarget {
  /** `host` or `host:port`; '' while the address is not known yet. */
  address(): string;
  /** The SSH user; commands are prefixed with `sudo ` unless it is `root`. */
  remoteUser(): string;
  /**
   * Accept or refuse the host key the instance presented. Resolves when accepted; rejects
   * with HostKeyError when refused, or NotImplementedError when this implementation has no
   * mechanism (the pool then checks the instance secret over `run`).
   * `run` executes a command over the connection being verified (before it is trusted).
   */
  verifyHostKey(
    key: Buffer,
    run: (command: string) => Promise<{ stdout: Buffer; stderr: Buffer }>,
  ): Promise<void>;
}

/**
 * One cloud VM as last listed. Fields are a snapshot; `tags` does not change when
 * `setTags` is called on this object (list again to see the new tags).
 */
export interface Instance extends ExecutorTarget {
  readonly id: string;
  readonly providerType: string;
  readonly tags: InstanceTags;
  /** Replace all tags. Errors as for InstanceSet.create (rate-limit, transient, not-found). */
  setTags(tags: InstanceTags): Promise<void>;
  /**
   * Ask the cloud to destroy the instance. Resolves once the request is accepted; the
   * instance may still be listed for a while (the pool retries after TimeoutShutdown).
   * Rejects with NotFoundError when it is already gone, RateLimitError or TransientError.
   */
  destroy(): Promise<void>;
  /** Known prices for this instance, newest last; [] when unknown. */
  priceHistory(type: InstanceType): readonly InstancePrice[];
}

export interface CreateRequest {
  readonly type: InstanceType;
  readonly imageId: string;
  readonly tags: InstanceTags;
  /** Shell commands run as root at first boot (writes the instance secret, then the config's init command). */
  readonly initCommand: string;
  /** OpenSSH `authorized_keys` line, or null when the config says not to deploy it. */
  readonly publicKey: string | null;
}

/**
 * A cloud account's instances, as seen by one dispatcher (the port behind the EC2 driver
 * and the simulated cloud).
 *
 * Contract:
 * - `create` resolves with the new instance (possibly still booting, possibly without an
 *   address). Rejects with RateLimitError (no call will succeed for `retryAfterMs`),
 *   QuotaError (create nothing until instances go away), CapacityError (type, quota group or
 *   everything), TransientError, or another error (treated as transient).
 * - `instances(filter)` lists every instance whose tags include all of `filter` (null: all
 *   the set may see), booting and shutting-down ones included. Implementations may return
 *   more (callers filter again) but never instances of another instance set when the filter
 *   names one. Rejects with RateLimitError or TransientError.
 * - `instanceQuotaGroup(type)` names the quota that `type` draws from; preemptible and
 *   on-demand types never share a group.
 * - Implementations never touch an instance they did not create or that lacks the set's tag.
 */
export interface InstanceSet {
  create(req: CreateRequest): Promise<Instance>;
  instances(filter: InstanceTags | null): Promise<readonly Instance[]>;
  instanceQuotaGroup(type: InstanceType): string;
  /** Release resources (timers, connections); no cloud calls. */
  stop(): void;
}
