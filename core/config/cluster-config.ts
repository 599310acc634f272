import type { InstanceType } from '../domain/instance-type.js';

/**
 * The parts of an Arvados cluster configuration (`Clusters.<id>`) the dispatcher reads,
 * with Arvados' key names, after defaults are applied and values are parsed:
 * durations are milliseconds, byte sizes are bytes. See docs/configuration.md.
 */
export interface ClusterConfig {
  readonly ClusterID: string;
  readonly SystemRootToken: string;
  readonly ManagementToken: string;
  readonly Services: {
    readonly Controller: { readonly ExternalURL: string };
    readonly DispatchCloud: { readonly InternalURLs: readonly string[] };
  };
  /**
   * `TLS.Insecure` (the outgoing clients skip certificate checks); `TLS.Certificate` and
   * `TLS.Key` ("" by default), the files the management API serves TLS with when its
   * InternalURLs entry is https (`file:///path`, as Arvados writes them).
   */
  readonly TLS: { readonly Insecure: boolean; readonly Certificate?: string; readonly Key?: string };
  readonly PostgreSQL: { readonly Connection: Readonly<Record<string, string>> };
  readonly API: { readonly MaxConcurrentRequests: number; readonly RequestTimeout: number };
  readonly Containers: ContainersConfig;
  /** By name; includes the `<name>.preemptible` types added by PreemptiblePriceFactor. */
  readonly InstanceTypes: Readonly<Record<string, InstanceType>>;
  /** `SystemLogs.LogLevel` (default info) and `SystemLogs.Format` (default json). */
  readonly SystemLogs?: { readonly LogLevel: string; readonly Format: string };
  /**
   * The body of `Clusters.<id>` exactly as given (no defaults applied), for consumers that
   * must pass the cluster config on (crunch-run's `--stdin-config` Cluster object).
   */
  readonly SourceBody?: Readonly<Record<string, unknown>>;
}

export interface ContainersConfig {
  readonly DispatchPrivateKey: string;
  readonly CrunchRunCommand: string;
  readonly CrunchRunArgumentsList: readonly string[];
  readonly RuntimeEngine: string;
  readonly ReserveExtraRAM: number;
  readonly MaxDispatchAttempts: number;
  readonly MaxRetryAttempts: number;
  readonly StaleLockTimeout: number;
  readonly DefaultKeepCacheRAM: number;
  readonly LocalKeepBlobBuffersPerVCPU: number;
  readonly AlwaysUsePreemptibleInstances: boolean;
  readonly PreemptiblePriceFactor: number;
  readonly MaximumPriceFactor: number;
  readonly CloudVMs: CloudVMsConfig;
}

export interface CloudVMsConfig {
  readonly Enable: boolean;
  readonly SSHPort: string;
  readonly PollInterval: number;
  readonly BootProbeCommand: string;
  readonly ProbeInterval: number;
  readonly MaxProbesPerSecond: number;
  readonly TimeoutSignal: number;
  readonly TimeoutStaleRunLock: number;
  readonly TimeoutTERM: number;
  readonly MaxCloudOpsPerSecond: number;
  readonly MaxConcurrentInstanceCreateOps: number;
  readonly MaxInstances: number;
  readonly MaxRunningContainersPerInstance: number;
  readonly InitialQuotaEstimate: number;
  readonly SupervisorFraction: number;
  readonly SyncInterval: number;
  readonly TimeoutIdle: number;
  readonly TimeoutBooting: number;
  readonly TimeoutProbe: number;
  readonly TimeoutShutdown: number;
  readonly ImageID: string;
  readonly InstanceInitCommand: string;
  readonly DeployRunnerBinary: string;
  readonly DeployRunnerDirectory: string;
  readonly DeployPublicKey: boolean;
  readonly ResourceTags: Readonly<Record<string, string>>;
  readonly TagKeyPrefix: string;
  readonly Driver: string;
  /** Passed verbatim to the driver, which validates it. */
  readonly DriverParameters: Readonly<Record<string, unknown>>;
}
