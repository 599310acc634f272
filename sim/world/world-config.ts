import { stringify } from 'yaml';
import type { ClusterConfig } from '../../core/config/cluster-config.js';

/** What the config generator needs of a running world. */
export interface WorldEndpoints {
  readonly config: ClusterConfig;
  readonly controllerUrl: string;
  readonly ec2Url: string;
  readonly managementPort: number;
  readonly adminUsername: string;
}

/**
 * Timeouts short enough for a demo and for CI, under the scenario's own cluster settings
 * (which win: a scenario written for the world sets what it needs).
 */
const WORLD_DEFAULTS = {
  Containers: {
    StaleLockTimeout: '5s',
    CloudVMs: {
      PollInterval: '1s',
      ProbeInterval: '1s',
      SyncInterval: '2s',
      TimeoutIdle: '5s',
      TimeoutBooting: '30s',
      TimeoutProbe: '30s',
      TimeoutShutdown: '5s',
      TimeoutSignal: '1s',
      TimeoutTERM: '10s',
      TimeoutStaleRunLock: '2s',
      MaxCloudOpsPerSecond: 50,
      MaxConcurrentInstanceCreateOps: 4,
      ImageID: 'ami-0000000000000000a',
    },
  },
} as const;

/**
 * The Arvados cluster config (YAML) for `vmdispatch serve` against a world: the scenario's
 * cluster body over short defaults, then what only the world knows: tokens, the controller
 * and EC2 endpoints, the management API's loopback port, the dispatch key file, and the
 * installed crunch-run (no runner deployment).
 */
export function worldClusterConfig(w: WorldEndpoints, keyFile: string): string {
  const c = w.config;
  const body = deepMerge(WORLD_DEFAULTS, c.SourceBody ?? {});
  const forced = {
    SystemRootToken: c.SystemRootToken,
    ManagementToken: c.ManagementToken,
    Services: {
      Controller: { ExternalURL: w.controllerUrl.replace(/\/$/, '') },
      DispatchCloud: { InternalURLs: { [`http://127.0.0.1:${w.managementPort}`]: {} } },
    },
    Containers: {
      DispatchPrivateKey: `file://${keyFile}`,
      CloudVMs: {
        Enable: true,
        Driver: 'ec2',
        DeployRunnerBinary: '',
        DriverParameters: {
          Endpoint: w.ec2Url,
          Region: 'us-east-1',
          AccessKeyID: 'AKIDVMDISPATCHWORLD',
          SecretAccessKey: 'vmdispatch-world-not-a-secret',
          AdminUsername: w.adminUsername,
        },
      },
    },
  };
  const cluster = deepMerge(body, forced);
  return stringify({ Clusters: { [c.ClusterID]: cluster } }, { lineWidth: 0 });
}

type Tree = Readonly<Record<string, unknown>>;

function isMap(v: unknown): v is Tree {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `over` on top of `base`, maps merged key by key; everything else replaced. */
function deepMerge(base: Tree, over: Tree): Record<string, unknown> {
  const merged = new Map(Object.entries(base));
  for (const [k, v] of Object.entries(over)) {
    const b = merged.get(k);
    merged.set(k, isMap(b) && isMap(v) ? deepMerge(b, v) : v);
  }
  // fromEntries keeps every key, `__proto__` included, as data.
  return Object.fromEntries(merged);
}
