// Parses an Arvados cluster configuration into the typed ClusterConfig: Arvados key names,
// Arvados defaults (lib/config/config.default.yml) for every key the dispatcher reads,
// durations in milliseconds, sizes in bytes. Pure: no I/O, no clock.
import type { CloudVMsConfig, ClusterConfig, ContainersConfig } from './cluster-config.js';
import { ConfigError, describeFound } from './config-error.js';
import { ConfigReader, isPlainMap, type PlainMap } from './config-reader.js';
import { autofillPreemptible, parseInstanceTypes } from './instance-types-config.js';

export interface ParsedClusterConfig {
  readonly config: ClusterConfig;
  /** Human-readable, each starting with the dotted path it concerns. */
  readonly warnings: string[];
}

export const CLUSTER_ID_PATTERN = /^[a-z0-9]{5}$/;
const TOKEN_PATTERN = /^[a-zA-Z0-9]+$/;

// Arvados keys the dispatcher does not read: present in real config files, never a warning.
const KNOWN_CLUSTER_KEYS = new Set([
  'Users', 'AuditLogs', 'Collections', 'Login', 'Git', 'RemoteClusters', 'Volumes', 'Mail',
  'StorageClasses', 'Workbench', 'SourceTimestamp', 'SourceSHA256', 'ClusterID',
]);
const KNOWN_CONTAINERS_KEYS = new Set([
  'SupportedDockerImageFormats', 'LogReuseDecisions', 'MinRetryPeriod', 'Logging', 'ShellAccess',
  'SLURM', 'LSF', 'JobsAPI', 'MaxComputeVMs', 'DefaultKeepCacheDisk', 'UsePreemptibleInstances',
]);

/**
 * Parses the body of `Clusters.<id>` (what a simulator scenario gives under `cluster:`).
 *
 * @param body the map (absent/null = all defaults)
 * @param opts.path dotted path of `body` used in errors and warnings ('Clusters.zzzzz' or 'cluster')
 * @param opts.clusterId the cluster ID (5 lowercase alphanumerics)
 * @returns the config, and warnings for unknown keys and questionable values
 * @throws ConfigError naming the exact path, what was expected and what was found
 */
export function parseClusterBody(body: unknown, opts: { path: string; clusterId: string }): ParsedClusterConfig {
  const warnings: string[] = [];
  const root = ConfigReader.at(body, opts.path, warnings, KNOWN_CLUSTER_KEYS);
  if (!CLUSTER_ID_PATTERN.test(opts.clusterId)) {
    throw new ConfigError(opts.path, `cluster ID should be 5 lowercase alphanumeric characters, got ${JSON.stringify(opts.clusterId)}`);
  }
  const SystemRootToken = token(root, 'SystemRootToken');
  const ManagementToken = token(root, 'ManagementToken');

  const services = root.section('Services', 'any');
  const controller = services.section('Controller', 'any');
  const controllerURL = controller.string('ExternalURL', '');
  if (controllerURL !== '' && !URL.canParse(controllerURL)) {
    throw new ConfigError(controller.keyPath('ExternalURL'), `expected a URL like https://zzzzz.example.com, ${describeFound(controllerURL)}`);
  }
  controller.finish();
  const dispatchCloud = services.section('DispatchCloud', 'any');
  const internal = dispatchCloud.section('InternalURLs', 'any');
  const InternalURLs = Object.keys(internal.map);
  for (const u of InternalURLs) {
    if (!URL.canParse(u)) throw new ConfigError(internal.keyPath(u), `expected a URL like http://host:9006 as the key, ${describeFound(u)}`);
  }
  dispatchCloud.finish();
  services.finish();

  const tls = root.section('TLS', 'any');
  const TLS = { Insecure: tls.bool('Insecure', false), Certificate: tls.string('Certificate', ''), Key: tls.string('Key', '') };
  tls.finish();
  const pg = root.section('PostgreSQL', 'any');
  const PostgreSQL = { Connection: pg.stringMap('Connection', { acceptNumbers: true }) };
  pg.finish();
  const api = root.section('API', 'any');
  const API = {
    MaxConcurrentRequests: api.int('MaxConcurrentRequests', 64, 0),
    RequestTimeout: api.duration('RequestTimeout', 5 * 60_000),
  };
  api.finish();
  const logs = root.section('SystemLogs', 'any');
  const SystemLogs = { LogLevel: logs.string('LogLevel', 'info'), Format: logs.string('Format', 'json') };
  logs.finish();

  const containersReader = root.section('Containers', KNOWN_CONTAINERS_KEYS);
  const Containers = parseContainers(containersReader);
  containersReader.finish();

  const configured = parseInstanceTypes(root.raw('InstanceTypes'), root.keyPath('InstanceTypes'), warnings);
  const InstanceTypes = autofillPreemptible(configured, Containers.PreemptiblePriceFactor, root.keyPath('InstanceTypes'), warnings);
  root.finish();

  const config: ClusterConfig = {
    ClusterID: opts.clusterId,
    SystemRootToken,
    ManagementToken,
    Services: { Controller: { ExternalURL: controllerURL }, DispatchCloud: { InternalURLs } },
    TLS,
    PostgreSQL,
    API,
    Containers,
    InstanceTypes,
    SystemLogs,
    SourceBody: isPlainMap(body) ? body : {},
  };
  return { config, warnings };
}

/**
 * Parses a whole config document `{Clusters: {<id>: {...}}}`.
 * @param opts.clusterId which cluster to use; required when the document defines several
 * @throws ConfigError when there is no Clusters map, no cluster, several clusters and no
 *   clusterId, an unknown clusterId, or any invalid value (see parseClusterBody)
 */
export function parseClusterConfigDocument(doc: unknown, opts: { clusterId?: string } = {}): ParsedClusterConfig {
  const warnings: string[] = [];
  const top = ConfigReader.at(doc, '', warnings);
  const clusters = top.raw('Clusters');
  if (clusters === undefined) throw new ConfigError('Clusters', 'expected a map of clusters by ID, got nothing (config does not define any clusters)');
  if (!isPlainMap(clusters)) throw new ConfigError('Clusters', `expected a map of clusters by ID, ${describeFound(clusters)}`);
  top.finish();
  const ids = Object.keys(clusters);
  let id = opts.clusterId;
  if (id === undefined) {
    if (ids.length === 0) throw new ConfigError('Clusters', 'expected at least one cluster, got an empty map');
    if (ids.length > 1) {
      throw new ConfigError('Clusters', `the config defines several clusters (${ids.join(', ')}); choose one with --cluster`);
    }
    id = ids[0] as string;
  } else if (!Object.hasOwn(clusters, id)) {
    throw new ConfigError('Clusters', `no cluster ${JSON.stringify(id)} in the config (it defines: ${ids.join(', ') || 'none'})`);
  }
  const parsed = parseClusterBody((clusters as PlainMap)[id], { path: `Clusters.${id}`, clusterId: id });
  return { config: parsed.config, warnings: [...warnings, ...parsed.warnings] };
}

function token(r: ConfigReader, key: string): string {
  const t = r.string(key, '');
  if (t !== '' && !TOKEN_PATTERN.test(t)) {
    throw new ConfigError(r.keyPath(key), 'unacceptable characters in token (only a-z, A-Z, 0-9 are acceptable)');
  }
  return t;
}

function parseContainers(c: ConfigReader): ContainersConfig {
  const logsToContainerLog = c.string('LocalKeepLogsToContainerLog', 'none');
  if (!['none', 'all', 'errors'].includes(logsToContainerLog)) {
    throw new ConfigError(c.keyPath('LocalKeepLogsToContainerLog'), `expected one of none, all, errors, ${describeFound(logsToContainerLog)}`);
  }
  if (c.map['UsePreemptibleInstances'] !== undefined) {
    c.warnings.push(`${c.keyPath('UsePreemptibleInstances')}: renamed to AlwaysUsePreemptibleInstances; ignored`);
  }
  const vms = c.section('CloudVMs');
  const CloudVMs = parseCloudVMs(vms);
  vms.finish();
  return {
    DispatchPrivateKey: c.string('DispatchPrivateKey', ''),
    CrunchRunCommand: c.string('CrunchRunCommand', 'crunch-run'),
    CrunchRunArgumentsList: c.stringList('CrunchRunArgumentsList', []),
    RuntimeEngine: c.string('RuntimeEngine', 'docker'),
    ReserveExtraRAM: c.byteSize('ReserveExtraRAM', 550 * 2 ** 20),
    MaxDispatchAttempts: c.int('MaxDispatchAttempts', 10, 0),
    MaxRetryAttempts: c.int('MaxRetryAttempts', 3, 0),
    StaleLockTimeout: c.duration('StaleLockTimeout', 60_000),
    DefaultKeepCacheRAM: c.byteSize('DefaultKeepCacheRAM', 0),
    LocalKeepBlobBuffersPerVCPU: c.int('LocalKeepBlobBuffersPerVCPU', 1, 0),
    AlwaysUsePreemptibleInstances: c.bool('AlwaysUsePreemptibleInstances', false),
    PreemptiblePriceFactor: c.float('PreemptiblePriceFactor', 0, 0),
    MaximumPriceFactor: c.float('MaximumPriceFactor', 1.5, 0),
    CloudVMs,
  };
}

function parseCloudVMs(v: ConfigReader): CloudVMsConfig {
  const tags = v.stringMap('ResourceTags');
  const driverParams = v.raw('DriverParameters');
  if (driverParams !== undefined && !isPlainMap(driverParams)) {
    throw new ConfigError(v.keyPath('DriverParameters'), `expected a map, ${describeFound(driverParams)}`);
  }
  return {
    Enable: v.bool('Enable', false),
    SSHPort: v.string('SSHPort', '22', { acceptNumber: true }),
    PollInterval: v.duration('PollInterval', 10_000),
    BootProbeCommand: v.string('BootProbeCommand', 'systemctl is-system-running'),
    ProbeInterval: v.duration('ProbeInterval', 10_000),
    MaxProbesPerSecond: v.int('MaxProbesPerSecond', 10),
    TimeoutSignal: v.duration('TimeoutSignal', 5_000),
    TimeoutStaleRunLock: v.duration('TimeoutStaleRunLock', 5_000),
    TimeoutTERM: v.duration('TimeoutTERM', 120_000),
    MaxCloudOpsPerSecond: v.int('MaxCloudOpsPerSecond', 10, 0),
    MaxConcurrentInstanceCreateOps: v.int('MaxConcurrentInstanceCreateOps', 1, 0),
    MaxInstances: v.int('MaxInstances', 64, 0),
    MaxRunningContainersPerInstance: v.int('MaxRunningContainersPerInstance', 0, 0),
    InitialQuotaEstimate: v.int('InitialQuotaEstimate', 0, 0),
    SupervisorFraction: v.float('SupervisorFraction', 0.5, 0),
    SyncInterval: v.duration('SyncInterval', 60_000),
    TimeoutIdle: v.duration('TimeoutIdle', 60_000),
    TimeoutBooting: v.duration('TimeoutBooting', 600_000),
    TimeoutProbe: v.duration('TimeoutProbe', 600_000),
    TimeoutShutdown: v.duration('TimeoutShutdown', 10_000),
    ImageID: v.string('ImageID', ''),
    InstanceInitCommand: v.string('InstanceInitCommand', ''),
    DeployRunnerBinary: v.string('DeployRunnerBinary', '/proc/self/exe'),
    DeployRunnerDirectory: v.string('DeployRunnerDirectory', '/tmp/arvados-crunch-run'),
    DeployPublicKey: v.bool('DeployPublicKey', true),
    ResourceTags: tags,
    TagKeyPrefix: v.string('TagKeyPrefix', 'Arvados'),
    Driver: v.string('Driver', 'ec2'),
    DriverParameters: driverParams ?? {},
  };
}
