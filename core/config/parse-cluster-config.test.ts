import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { instanceSetIdFromToken } from './instance-set-id.js';
import { parseClusterBody, parseClusterConfigDocument } from './parse-cluster-config.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function body(b: unknown) {
  return parseClusterBody(b, { path: 'Clusters.zzzzz', clusterId: 'zzzzz' });
}

/** The ConfigError thrown by `f`, for asserting its path and problem. */
function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('parseClusterBody defaults', () => {
  it('applies every Arvados default the dispatcher reads', () => {
    const { config, warnings } = body({});
    expect(warnings).toEqual([]);
    expect(config.ClusterID).toBe('zzzzz');
    expect(config.SystemRootToken).toBe('');
    expect(config.API).toEqual({ MaxConcurrentRequests: 64, RequestTimeout: 300_000 });
    expect(config.TLS.Insecure).toBe(false);
    expect(config.SystemLogs).toEqual({ LogLevel: 'info', Format: 'json' });
    expect(config.InstanceTypes).toEqual({});
    const c = config.Containers;
    expect(c).toMatchObject({
      DispatchPrivateKey: '',
      CrunchRunCommand: 'crunch-run',
      CrunchRunArgumentsList: [],
      RuntimeEngine: 'docker',
      ReserveExtraRAM: 550 * MiB,
      MaxDispatchAttempts: 10,
      MaxRetryAttempts: 3,
      StaleLockTimeout: 60_000,
      DefaultKeepCacheRAM: 0,
      LocalKeepBlobBuffersPerVCPU: 1,
      AlwaysUsePreemptibleInstances: false,
      PreemptiblePriceFactor: 0,
      MaximumPriceFactor: 1.5,
    });
    expect(c.CloudVMs).toEqual({
      Enable: false,
      SSHPort: '22',
      PollInterval: 10_000,
      BootProbeCommand: 'systemctl is-system-running',
      ProbeInterval: 10_000,
      MaxProbesPerSecond: 10,
      TimeoutSignal: 5_000,
      TimeoutStaleRunLock: 5_000,
      TimeoutTERM: 120_000,
      MaxCloudOpsPerSecond: 10,
      MaxConcurrentInstanceCreateOps: 1,
      MaxInstances: 64,
      MaxRunningContainersPerInstance: 0,
      InitialQuotaEstimate: 0,
      SupervisorFraction: 0.5,
      SyncInterval: 60_000,
      TimeoutIdle: 60_000,
      TimeoutBooting: 600_000,
      TimeoutProbe: 600_000,
      TimeoutShutdown: 10_000,
      ImageID: '',
      InstanceInitCommand: '',
      DeployRunnerBinary: '/proc/self/exe',
      DeployRunnerDirectory: '/tmp/arvados-crunch-run',
      DeployPublicKey: true,
      ResourceTags: {},
      TagKeyPrefix: 'Arvados',
      Driver: 'ec2',
      DriverParameters: {},
    });
  });

  it('treats null like an absent key (Arvados drops null keys before merging defaults)', () => {
    const { config } = body({ Containers: { CloudVMs: { TimeoutIdle: null }, ReserveExtraRAM: null } });
    expect(config.Containers.CloudVMs.TimeoutIdle).toBe(60_000);
    expect(config.Containers.ReserveExtraRAM).toBe(550 * MiB);
  });

  it('reads configured values in Arvados units', () => {
    const { config } = body({
      SystemRootToken: 'abc123XYZ',
      Services: { Controller: { ExternalURL: 'https://ctl.example:443' }, DispatchCloud: { InternalURLs: { 'http://localhost:9006': {} } } },
      PostgreSQL: { Connection: { host: 'db', port: 5432 } },
      Containers: {
        ReserveExtraRAM: '1GiB',
        CrunchRunArgumentsList: ['--cgroup-parent-subsystem=memory'],
        CloudVMs: { TimeoutIdle: '1m30s', SSHPort: 2222, MaxInstances: 0, ResourceTags: { Owner: 'me' }, DriverParameters: { Region: 'us-east-1' } },
      },
    });
    expect(config.SystemRootToken).toBe('abc123XYZ');
    expect(config.Services.Controller.ExternalURL).toBe('https://ctl.example:443');
    expect(config.Services.DispatchCloud.InternalURLs).toEqual(['http://localhost:9006']);
    expect(config.PostgreSQL.Connection).toEqual({ host: 'db', port: '5432' });
    expect(config.Containers.ReserveExtraRAM).toBe(GiB);
    expect(config.Containers.CrunchRunArgumentsList).toEqual(['--cgroup-parent-subsystem=memory']);
    expect(config.Containers.CloudVMs.TimeoutIdle).toBe(90_000);
    expect(config.Containers.CloudVMs.SSHPort).toBe('2222');
    expect(config.Containers.CloudVMs.MaxInstances).toBe(0);
    expect(config.Containers.CloudVMs.ResourceTags).toEqual({ Owner: 'me' });
    expect(config.Containers.CloudVMs.DriverParameters).toEqual({ Region: 'us-east-1' });
  });
});

describe('parseClusterBody errors name the exact path', () => {
  it.each([
    [{ Containers: { CloudVMs: { TimeoutIdle: 60 } } }, 'Clusters.zzzzz.Containers.CloudVMs.TimeoutIdle', /expected a duration like 10s or 1m30s, got 60 \(missing unit/],
    [{ Containers: { CloudVMs: { TimeoutIdle: '1 minute' } } }, 'Clusters.zzzzz.Containers.CloudVMs.TimeoutIdle', /expected a duration/],
    [{ Containers: { CloudVMs: { TimeoutBooting: '-1m' } } }, 'Clusters.zzzzz.Containers.CloudVMs.TimeoutBooting', /expected a duration >= 0/],
    [{ Containers: { CloudVMs: { MaxInstances: 'many' } } }, 'Clusters.zzzzz.Containers.CloudVMs.MaxInstances', /expected a whole number, got "many"/],
    [{ Containers: { CloudVMs: { MaxInstances: 1.5 } } }, 'Clusters.zzzzz.Containers.CloudVMs.MaxInstances', /expected a whole number/],
    [{ Containers: { CloudVMs: { MaxInstances: -1 } } }, 'Clusters.zzzzz.Containers.CloudVMs.MaxInstances', /expected a whole number >= 0, got -1/],
    [{ Containers: { CloudVMs: { DeployPublicKey: 'yes' } } }, 'Clusters.zzzzz.Containers.CloudVMs.DeployPublicKey', /expected true or false, got "yes"/],
    [{ Containers: { CloudVMs: 'fast' } }, 'Clusters.zzzzz.Containers.CloudVMs', /expected a map, got "fast"/],
    [{ Containers: { CloudVMs: { DriverParameters: [1] } } }, 'Clusters.zzzzz.Containers.CloudVMs.DriverParameters', /expected a map, got a list/],
    [{ Containers: { CloudVMs: { ResourceTags: { a: 1 } } } }, 'Clusters.zzzzz.Containers.CloudVMs.ResourceTags.a', /expected a string, got 1/],
    [{ Containers: { ReserveExtraRAM: '550 mb' } }, 'Clusters.zzzzz.Containers.ReserveExtraRAM', /expected a size like 550MiB.*invalid unit "mb"/],
    [{ Containers: { MaximumPriceFactor: '1.5' } }, 'Clusters.zzzzz.Containers.MaximumPriceFactor', /expected a number, got "1.5"/],
    [{ Containers: { CrunchRunArgumentsList: ['ok', 3] } }, 'Clusters.zzzzz.Containers.CrunchRunArgumentsList.1', /expected a string, got 3/],
    [{ Containers: { LocalKeepLogsToContainerLog: 'some' } }, 'Clusters.zzzzz.Containers.LocalKeepLogsToContainerLog', /expected one of none, all, errors/],
    [{ SystemRootToken: 'v2/zzzzz-gj3su-0123/secret' }, 'Clusters.zzzzz.SystemRootToken', /unacceptable characters in token/],
    [{ Services: { Controller: { ExternalURL: 'not a url' } } }, 'Clusters.zzzzz.Services.Controller.ExternalURL', /expected a URL/],
    [{ API: { RequestTimeout: 5 } }, 'Clusters.zzzzz.API.RequestTimeout', /missing unit/],
    [{ InstanceTypes: [{ Name: 'a' }] }, 'Clusters.zzzzz.InstanceTypes', /must be specified as a map, not an array/],
    [{ InstanceTypes: { a: { RAM: '8 gigs' } } }, 'Clusters.zzzzz.InstanceTypes.a.RAM', /expected a size/],
    [{ InstanceTypes: { a: { VCPUs: '2' } } }, 'Clusters.zzzzz.InstanceTypes.a.VCPUs', /expected a whole number, got "2"/],
    [{ InstanceTypes: { a: { Price: -1 } } }, 'Clusters.zzzzz.InstanceTypes.a.Price', /expected a number >= 0/],
    [{ InstanceTypes: { 'm5.large': { GPU: { DeviceCount: 1, DriverVersion: 'eleven' } } } }, 'Clusters.zzzzz.InstanceTypes.m5.large.GPU.DriverVersion', /invalid GPU.DriverVersion "eleven", expected format X.Y/],
    [{ InstanceTypes: { a: { GPU: { DeviceCount: 1, DriverVersion: 11.0 } } } }, 'Clusters.zzzzz.InstanceTypes.a.GPU.DriverVersion', /expected a string, got 11/],
  ])('%j fails at %s', (b, path, re) => {
    const e = configError(() => body(b));
    expect(e.path).toBe(path);
    expect(e.problem).toMatch(re);
    expect(e.message).toBe(`${path}: ${e.problem}`);
  });

  it('uses the given path prefix (scenario files give the body under cluster:)', () => {
    const e = configError(() => parseClusterBody({ Containers: { CloudVMs: { TimeoutIdle: 'x' } } }, { path: 'cluster', clusterId: 'sim01' }));
    expect(e.path).toBe('cluster.Containers.CloudVMs.TimeoutIdle');
  });

  it('rejects a malformed cluster ID', () => {
    const e = configError(() => parseClusterBody({}, { path: 'Clusters.ZZ', clusterId: 'ZZ' }));
    expect(e.path).toBe('Clusters.ZZ');
    expect(e.problem).toMatch(/5 lowercase alphanumeric/);
  });

  it('accepts a GPU type without a usable DriverVersion when DeviceCount is 0', () => {
    expect(() => body({ InstanceTypes: { a: { VCPUs: 1, RAM: 1, GPU: { DeviceCount: 0, DriverVersion: '' } } } })).not.toThrow();
  });
});

describe('parseClusterBody warnings', () => {
  it('warns for unknown keys in the sections the dispatcher reads, with a case hint', () => {
    const { warnings } = body({
      Bogus: 1,
      Containers: { CloudVMs: { TimeoutIdel: '1m', maxInstances: 3 }, Frobnicate: true },
      InstanceTypes: { a: { VCPUs: 1, RAM: '1GiB', Colour: 'blue' } },
    });
    expect(warnings).toEqual(
      expect.arrayContaining([
        'Clusters.zzzzz.Bogus: deprecated or unknown config entry, ignored',
        'Clusters.zzzzz.Containers.Frobnicate: deprecated or unknown config entry, ignored',
        'Clusters.zzzzz.Containers.CloudVMs.TimeoutIdel: deprecated or unknown config entry, ignored',
        'Clusters.zzzzz.Containers.CloudVMs.maxInstances: deprecated or unknown config entry, ignored (perhaps you meant MaxInstances?)',
        'Clusters.zzzzz.InstanceTypes.a.Colour: deprecated or unknown config entry, ignored',
      ]),
    );
    expect(warnings).toHaveLength(5);
  });

  it('does not warn for Arvados keys the dispatcher ignores', () => {
    const { warnings } = body({
      Collections: { BlobSigningKey: 'x' },
      Volumes: {},
      Users: {},
      Login: {},
      API: { MaxItemsPerResponse: 1000, MaxRequestSize: 1 },
      TLS: { Certificate: '', Key: '' },
      PostgreSQL: { ConnectionPool: 32 },
      Services: { Keepstore: { InternalURLs: {} }, Controller: { InternalURLs: {} } },
      Containers: { SLURM: {}, LSF: {}, Logging: {}, MinRetryPeriod: '0s', SupportedDockerImageFormats: {} },
    });
    expect(warnings).toEqual([]);
  });

  it('warns, with a hint, for a miscapitalised key in big sections read only in part', () => {
    const { warnings } = body({ API: { maxConcurrentRequests: 8 } });
    expect(warnings).toEqual(['Clusters.zzzzz.API.maxConcurrentRequests: deprecated or unknown config entry, ignored (perhaps you meant MaxConcurrentRequests?)']);
  });

  it('reads a quoted number without a unit as bytes and says Arvados would read 0', () => {
    const { config, warnings } = body({ Containers: { ReserveExtraRAM: '1024' } });
    expect(config.Containers.ReserveExtraRAM).toBe(1024);
    expect(warnings[0]).toMatch(/^Clusters\.zzzzz\.Containers\.ReserveExtraRAM: quoted number "1024" without a unit read as 1024 bytes/);
  });

  it('warns about the removed UsePreemptibleInstances key', () => {
    expect(body({ Containers: { UsePreemptibleInstances: true } }).warnings).toEqual([
      'Clusters.zzzzz.Containers.UsePreemptibleInstances: renamed to AlwaysUsePreemptibleInstances; ignored',
    ]);
  });
});

describe('InstanceTypes', () => {
  it('fills Name, defaults ProviderType to the name, and computes Scratch', () => {
    const { config, warnings } = body({
      InstanceTypes: {
        small: { VCPUs: 2, RAM: '4GiB', IncludedScratch: '16GB', AddedScratch: '10GB', Price: 0.1 },
        big: { ProviderType: 'm5.4xlarge', VCPUs: 16, RAM: '64GiB', Price: 0.8 },
      },
    });
    expect(warnings).toEqual([]);
    expect(config.InstanceTypes['small']).toEqual({
      name: 'small',
      providerType: 'small',
      vcpus: 2,
      ram: 4 * GiB,
      scratch: 26e9,
      includedScratch: 16e9,
      addedScratch: 10e9,
      price: 0.1,
      preemptible: false,
      gpu: { stack: '', driverVersion: '', hardwareTarget: '', deviceCount: 0, vram: 0 },
    });
    expect(config.InstanceTypes['big']?.providerType).toBe('m5.4xlarge');
    expect(config.InstanceTypes['big']?.scratch).toBe(0);
  });

  it('overwrites a configured Scratch with IncludedScratch + AddedScratch, with a warning', () => {
    const { config, warnings } = body({ InstanceTypes: { a: { VCPUs: 1, RAM: '1GiB', Scratch: '500GB', IncludedScratch: '10GB' } } });
    expect(config.InstanceTypes['a']?.scratch).toBe(10e9);
    expect(warnings).toEqual(['Clusters.zzzzz.InstanceTypes.a.Scratch: ignored; Scratch is always IncludedScratch + AddedScratch (10000000000 bytes)']);
  });

  it('reads GPU fields', () => {
    const { config } = body({
      InstanceTypes: { g: { VCPUs: 4, RAM: '16GiB', Price: 0.5, GPU: { Stack: 'cuda', DriverVersion: '12.2', HardwareTarget: '7.5', DeviceCount: 1, VRAM: '16GiB' } } },
    });
    expect(config.InstanceTypes['g']?.gpu).toEqual({ stack: 'cuda', driverVersion: '12.2', hardwareTarget: '7.5', deviceCount: 1, vram: 16 * GiB });
  });

  it('warns about types that can never run anything and about the removed CUDA section', () => {
    const { warnings } = body({ InstanceTypes: { z: { CUDA: { DeviceCount: 1 } } } });
    expect(warnings).toEqual([
      'Clusters.zzzzz.InstanceTypes.z.CUDA: ignored; the CUDA section was removed in Arvados 3.3, use GPU (Stack: cuda)',
      'Clusters.zzzzz.InstanceTypes.z: VCPUs and RAM should both be > 0 (an instance with 0 VCPUs can never run a container)',
    ]);
  });

  it('PreemptiblePriceFactor adds <name>.preemptible variants of the non-preemptible types', () => {
    const { config } = body({
      Containers: { PreemptiblePriceFactor: 0.5 },
      InstanceTypes: {
        a: { ProviderType: 'm5.large', VCPUs: 2, RAM: '8GiB', Price: 0.1 },
        spot: { VCPUs: 2, RAM: '8GiB', Price: 0.03, Preemptible: true },
      },
    });
    expect(Object.keys(config.InstanceTypes)).toEqual(['a', 'spot', 'a.preemptible']);
    expect(config.InstanceTypes['a.preemptible']).toMatchObject({ name: 'a.preemptible', providerType: 'm5.large', preemptible: true, price: 0.05 });
  });

  it('keeps an explicitly configured .preemptible type that differs, with a warning', () => {
    const { config, warnings } = body({
      Containers: { PreemptiblePriceFactor: 0.5 },
      InstanceTypes: {
        a: { VCPUs: 2, RAM: '8GiB', Price: 0.1 },
        'a.preemptible': { VCPUs: 2, RAM: '8GiB', Price: 0.07, Preemptible: true },
      },
    });
    expect(config.InstanceTypes['a.preemptible']?.price).toBe(0.07);
    expect(warnings).toEqual([
      'Clusters.zzzzz.InstanceTypes.a.preemptible: already exists, so not automatically adding a preemptible variant of a',
    ]);
  });

  it('adds no variants when the factor is 0', () => {
    const { config } = body({ InstanceTypes: { a: { VCPUs: 2, RAM: '8GiB', Price: 0.1 } } });
    expect(Object.keys(config.InstanceTypes)).toEqual(['a']);
  });
});

describe('parseClusterConfigDocument', () => {
  it('takes the only cluster', () => {
    const { config } = parseClusterConfigDocument({ Clusters: { abcde: { ManagementToken: 'tok' } } });
    expect(config.ClusterID).toBe('abcde');
    expect(config.ManagementToken).toBe('tok');
  });

  it('requires a choice among several clusters, and honours it', () => {
    const doc = { Clusters: { aaaaa: {}, bbbbb: { Containers: { CloudVMs: { MaxInstances: 7 } } } } };
    expect(configError(() => parseClusterConfigDocument(doc)).problem).toMatch(/several clusters \(aaaaa, bbbbb\); choose one with --cluster/);
    expect(parseClusterConfigDocument(doc, { clusterId: 'bbbbb' }).config.Containers.CloudVMs.MaxInstances).toBe(7);
    expect(configError(() => parseClusterConfigDocument(doc, { clusterId: 'ccccc' })).problem).toMatch(/no cluster "ccccc"/);
  });

  it('prefixes paths with Clusters.<id>', () => {
    const e = configError(() => parseClusterConfigDocument({ Clusters: { zzzzz: { Containers: { CloudVMs: { TimeoutIdle: 60 } } } } }));
    expect(e.path).toBe('Clusters.zzzzz.Containers.CloudVMs.TimeoutIdle');
  });

  it.each([
    [{}, /config does not define any clusters/],
    [{ Clusters: [] }, /expected a map of clusters by ID, got a list/],
    [{ Clusters: {} }, /at least one cluster/],
    ['text', /expected a map, got "text"/],
  ])('rejects %j', (doc, re) => {
    expect(configError(() => parseClusterConfigDocument(doc)).message).toMatch(re);
  });

  it('warns about unknown top-level keys', () => {
    expect(parseClusterConfigDocument({ Clusters: { zzzzz: {} }, Extra: 1 }).warnings).toEqual(['Extra: deprecated or unknown config entry, ignored']);
  });
});

describe('instanceSetIdFromToken', () => {
  it('is the hex MD5 of a plain token', () => {
    expect(instanceSetIdFromToken('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(instanceSetIdFromToken('xyzzy')).toBe('1271ed5ef305aadabc605b1609e24c52');
  });

  it('is the uuid part of a v2 token', () => {
    expect(instanceSetIdFromToken('v2/zzzzz-gj3su-0123456789abcde/secret')).toBe('zzzzz-gj3su-0123456789abcde');
  });
});
