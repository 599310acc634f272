import type { GpuRequest } from '../../core/domain/container.js';
import type { Choice, Dist, PriorityRange } from './distributions.js';

/** What crunch-run does with the container in the simulated VM. */
export const OUTCOMES = ['complete', 'fail', 'hang'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const WORKLOAD_KINDS = ['poisson', 'burst', 'list', 'swf', 'cluster-csv'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/**
 * One container request the simulated controller will receive. Produced by
 * `generateWorkload`; the stub controller turns it into a container (and replacements).
 * Sizes are bytes, times milliseconds.
 */
export interface ContainerRequestSpec {
  /** Stable across runs with the same scenario: `w<entry index>-<n>`, n counting from 0
   * within the entry. */
  readonly id: string;
  /** When the request arrives, ms from the scenario start. */
  readonly submitAt: number;
  /** How long crunch-run runs the container once started (for `hang`: never finishes). */
  readonly runtimeMs: number;
  readonly vcpus: number;
  readonly ram: number;
  /** Exact integer (Arvados priorities reach ~1e18). Always >= 1. */
  readonly priority: bigint;
  readonly preemptible: boolean;
  /** null when no GPU is requested. */
  readonly gpu: GpuRequest | null;
  /** runtime_constraints.keep_cache_ram; absent = the cluster default. */
  readonly keepCacheRam?: number;
  readonly outcome: Outcome;
  /** The trace's requested (wall) time, when a trace gave one. Informational. */
  readonly requestedTimeMs?: number;
  readonly source: RequestSource;
}

/** Where a request came from, for reports and error messages. */
export interface RequestSource {
  /** Index in the scenario's `workload` list. */
  readonly entry: number;
  readonly kind: WorkloadKind;
  /** 1-based line of the trace file (swf, cluster-csv). */
  readonly line?: number;
  /** The trace's job number (swf) or pod name (cluster-csv). */
  readonly job?: string;
}

/** Fields every kind accepts; each container draws its own value. */
export interface CommonFields {
  readonly priority: PriorityRange;
  /** Probability that a request is preemptible. */
  readonly preemptible: number;
  readonly outcome: Choice<Outcome>;
  readonly keepCacheRam?: number;
}

export interface PoissonEntry extends CommonFields {
  readonly kind: 'poisson';
  readonly count: number;
  readonly ratePerHour: number;
  /** Arrivals begin at this time (drawn once per entry). */
  readonly start: Dist;
  readonly runtime: Dist;
  readonly vcpus: Choice<number>;
  readonly ram: Choice<number>;
  readonly gpu: GpuRequest | null;
}

export interface BurstEntry extends CommonFields {
  readonly kind: 'burst';
  /** Drawn per container when a distribution. */
  readonly at: Dist;
  readonly count: number;
  readonly runtime: Dist;
  readonly vcpus: Choice<number>;
  readonly ram: Choice<number>;
  readonly gpu: GpuRequest | null;
}

export interface ListItem extends CommonFields {
  readonly at: Dist;
  readonly runtime: Dist;
  readonly vcpus: Choice<number>;
  readonly ram: Choice<number>;
  readonly gpu: GpuRequest | null;
}

export interface ListEntry {
  readonly kind: 'list';
  readonly containers: readonly ListItem[];
}

export interface SwfEntry extends CommonFields {
  readonly kind: 'swf';
  /** As written in the scenario; relative paths are resolved against the scenario dir. */
  readonly path: string;
  /** Read at most this many job records (skipped jobs included). */
  readonly limit?: number;
  readonly vcpusPerProcessor: number;
  /** Default: the largest instance type's VCPUs. */
  readonly maxVCPUs?: number;
  readonly ramPerVCPU: number;
  /** Added to every submit time (drawn once per entry). */
  readonly start: Dist;
  readonly gpu: GpuRequest | null;
}

export interface ClusterCsvEntry extends CommonFields {
  readonly kind: 'cluster-csv';
  readonly path: string;
  /** Read at most this many data rows (skipped rows included). */
  readonly limit?: number;
  /** Default: the largest instance type's VCPUs. */
  readonly maxVCPUs?: number;
  readonly start: Dist;
  /** Given to rows with num_gpu > 0, with deviceCount = num_gpu. */
  readonly gpu: Omit<GpuRequest, 'deviceCount'>;
}

export type WorkloadEntry = PoissonEntry | BurstEntry | ListEntry | SwfEntry | ClusterCsvEntry;
