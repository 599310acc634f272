import { DEFAULT_QUOTA_GROUPS } from '../../prod/ec2/driver-params.js';
import { ec2QuotaGroup } from '../../prod/ec2/quota-group.js';
import type { Rng } from '../../core/ports/rng.js';

/** A fixed duration, or a log-normal one given by its median and 95th percentile (ms). */
export type DurationSpec = number | { readonly median: number; readonly p95: number };

/** `quota:` of a scenario. Absent fields mean no limit. */
export interface QuotaSpec {
  /** Instances (booting, running and shutting down) the account may have at once. */
  readonly instances?: number;
  /** vCPUs per quota group (as `instanceQuotaGroup` names them, e.g. `standard`, `p5-spot`). */
  readonly vcpus?: Readonly<Record<string, number>>;
}

/** Create of one of `types` fails with a type-specific capacity error in [from, to). */
export interface CapacityOutage {
  /** Arvados type names or provider types; empty = every type. */
  readonly types: readonly string[];
  /** ms from the simulation start. */
  readonly from: number;
  readonly to: number;
}

/**
 * How the simulated cloud behaves: the `cloud:` keys of a scenario file (CONTRACTS.md
 * section 2) with durations in ms, plus a few simulator knobs. The scenario loader maps
 * YAML to this; `DEFAULT_CLOUD_BEHAVIOR` fills what a scenario leaves out.
 */
export interface CloudBehavior {
  /** Create → the VM answers its boot probe. */
  readonly bootTime: DurationSpec;
  /** Fraction of create calls that fail with TransientError. */
  readonly createFailureRate: number;
  /** Fraction of destroy calls that fail with TransientError. */
  readonly destroyFailureRate: number;
  /** Fraction of VMs that boot but whose crunch-run reports `broken`. */
  readonly brokenRate: number;
  /** Per-instance rate (per hour) of vanishing without notice. */
  readonly dieRatePerHour: number;
  readonly quota: QuotaSpec;
  readonly capacity: readonly CapacityOutage[];
  /** null = no API rate limit. `burst` defaults to max(1, opsPerSecond). */
  readonly rateLimit: { readonly opsPerSecond: number; readonly burst?: number } | null;
  readonly spot: {
    /**
     * When set, preemptible instances are billed (and report in priceHistory) this
     * fraction of the on-demand price of the same provider type; otherwise the
     * preemptible type's configured price.
     */
    readonly priceFactor?: number;
    /** Per preemptible instance and hour. */
    readonly interruptionsPerHour: number;
    /** From the interruption notice to the instance vanishing. */
    readonly noticeMs: number;
  };
  /** Virtual time each cloud API call takes. */
  readonly apiLatencyMs: number;
  /** How long a destroyed instance stays listed (shutting-down) before it is gone. */
  readonly shutdownMs: number;
  /** EC2's InstanceTypeQuotaGroups: lowercase provider type prefix → quota group. */
  readonly quotaGroups: Readonly<Record<string, string>>;
}

/** The EC2 driver's default InstanceTypeQuotaGroups: the simulated cloud groups types as the driver does. */
export const EC2_DEFAULT_QUOTA_GROUPS = DEFAULT_QUOTA_GROUPS;

export const DEFAULT_CLOUD_BEHAVIOR: CloudBehavior = {
  bootTime: 90_000,
  createFailureRate: 0,
  destroyFailureRate: 0,
  brokenRate: 0,
  dieRatePerHour: 0,
  quota: {},
  capacity: [],
  rateLimit: null,
  spot: { interruptionsPerHour: 0, noticeMs: 120_000 },
  apiLatencyMs: 0,
  shutdownMs: 30_000,
  quotaGroups: EC2_DEFAULT_QUOTA_GROUPS,
};

/** Fill the gaps of a partial behaviour with the defaults. */
export function cloudBehavior(partial: Partial<CloudBehavior> = {}): CloudBehavior {
  return { ...DEFAULT_CLOUD_BEHAVIOR, ...partial, spot: { ...DEFAULT_CLOUD_BEHAVIOR.spot, ...partial.spot } };
}

// Φ⁻¹(0.95): the p95 of a log-normal is median · exp(1.6449 σ).
const Z95 = 1.6448536269514722;

/** Draw a duration (ms, ≥ 0, rounded to whole ms so timelines stay exact). */
export function sampleDuration(spec: DurationSpec, rng: Rng): number {
  if (typeof spec === 'number') return spec;
  if (spec.median <= 0) return 0;
  const sigma = spec.p95 > spec.median ? Math.log(spec.p95 / spec.median) / Z95 : 0;
  return Math.round(spec.median * Math.exp(sigma * standardNormal(rng)));
}

/** Time to the next event of a Poisson process with `ratePerHour` (ms); Infinity for rate 0. */
export function sampleExponentialMs(ratePerHour: number, rng: Rng): number {
  if (ratePerHour <= 0) return Infinity;
  return Math.round((-Math.log(1 - rng.next()) / ratePerHour) * 3_600_000);
}

function standardNormal(rng: Rng): number {
  // Box-Muller with u1 in (0, 1] so the log is finite.
  const u1 = 1 - rng.next();
  const u2 = rng.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export { ec2QuotaGroup };
