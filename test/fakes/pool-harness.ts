import type { ClusterConfig, CloudVMsConfig } from '../../core/config/cluster-config.js';
import type { Container } from '../../core/domain/container.js';
import { NO_GPU, type InstanceType } from '../../core/domain/instance-type.js';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { nullLogger, type Logger, type LogFields } from '../../core/ports/logger.js';
import { Pool, type PoolOptions } from '../../core/pool/pool.js';
import { EventEngine } from '../../sim/engine/event-engine.js';
import { FakeCloud, type FakeCloudOptions, md5hex } from './pool-fake-cloud.js';
import { FakeShell } from './pool-fake-executor.js';
import { clusterWith } from './cluster-defaults.js';

/** Builders for pool tests: instance types, containers, a cluster config, a wired pool. */
export function instanceType(name: string, over: Partial<InstanceType> = {}): InstanceType {
  return {
    name,
    providerType: name,
    vcpus: 2,
    ram: 4 * 2 ** 30,
    scratch: 10e9,
    includedScratch: 10e9,
    addedScratch: 0,
    price: 0.1,
    preemptible: false,
    gpu: NO_GPU,
    ...over,
  };
}

let containerSeq = 0;
export function containerUuid(n = ++containerSeq): string {
  return `zzzzz-dz642-${n.toString().padStart(15, '0')}`;
}

export function container(uuid = containerUuid(), over: Partial<Container> = {}): Container {
  return {
    uuid,
    state: 'Locked',
    priority: 1n,
    lockedByUuid: 'zzzzz-gj3su-000000000000000',
    runtimeConstraints: { vcpus: 1, ram: 2 ** 30, keepCacheRam: 0, keepCacheDisk: 0, api: false, gpu: { stack: '', deviceCount: 0, driverVersion: '', hardwareTarget: [], vram: 0 } },
    schedulingParameters: { preemptible: false, partitions: [], maxRunTime: 0, supervisor: false },
    containerImage: 'img',
    createdAt: 0,
    ...over,
  };
}

/** What pool tests run with unless a test says otherwise: Arvados' defaults, enabled, with an image and an init command. */
const POOL_CLOUD_VMS: Partial<CloudVMsConfig> = { Enable: true, ImageID: 'ami-test', InstanceInitCommand: 'echo hello' };

export function clusterConfig(types: readonly InstanceType[], cloudVMs: Partial<CloudVMsConfig> = {}): ClusterConfig {
  return clusterWith({
    top: {
      SystemRootToken: 'root-token',
      ManagementToken: 'mgmt',
      Services: { Controller: { ExternalURL: 'https://zzzzz.example:443' }, DispatchCloud: { InternalURLs: [] } },
      InstanceTypes: Object.fromEntries(types.map((t) => [t.name, t])),
    },
    cloudVMs: { ...POOL_CLOUD_VMS, ...cloudVMs },
  });
}

/** Records log lines for assertions on "every transition logged with its reason". */
export class MemoryLogger implements Logger {
  constructor(
    readonly lines: { level: string; msg: string; fields: LogFields }[] = [],
    private readonly base: LogFields = {},
  ) {}
  debug(msg: string, f?: LogFields): void {
    this.lines.push({ level: 'debug', msg, fields: { ...this.base, ...f } });
  }
  info(msg: string, f?: LogFields): void {
    this.lines.push({ level: 'info', msg, fields: { ...this.base, ...f } });
  }
  warn(msg: string, f?: LogFields): void {
    this.lines.push({ level: 'warn', msg, fields: { ...this.base, ...f } });
  }
  error(msg: string, f?: LogFields): void {
    this.lines.push({ level: 'error', msg, fields: { ...this.base, ...f } });
  }
  child(f: LogFields): Logger {
    return new MemoryLogger(this.lines, { ...this.base, ...f });
  }
}

export const RUNNER_BINARY = Buffer.from('#!/bin/sh\necho fake crunch-run\n');

export interface Harness {
  readonly engine: EventEngine;
  readonly cloud: FakeCloud;
  readonly shell: FakeShell;
  readonly config: ClusterConfig;
  readonly logger: MemoryLogger;
  newPool(over?: Partial<PoolOptions>): Pool;
}

export const INSTANCE_SET_ID = 'zzzzz-gj3su-000000000000000';

/** A fake cloud, a fake shell and a virtual clock, and a way to start pools on them. */
export function harness(types: readonly InstanceType[], cloudVMs: Partial<CloudVMsConfig> = {}, cloudOpts: FakeCloudOptions = {}, seed = 'pool-test'): Harness {
  const engine = new EventEngine({ startMs: 1_000_000 });
  const cloud = new FakeCloud(engine, cloudOpts);
  const config = clusterConfig(types, cloudVMs);
  const shell = new FakeShell(cloud, engine, config.Containers.CloudVMs.BootProbeCommand);
  const logger = new MemoryLogger();
  return {
    engine,
    cloud,
    shell,
    config,
    logger,
    newPool(over = {}) {
      const md5 = md5hex(RUNNER_BINARY);
      return new Pool({
        config: over.config ?? config,
        clock: engine,
        rng: new SeededRng(seed),
        logger,
        instanceSet: cloud,
        newExecutor: shell.factory(),
        instanceSetId: INSTANCE_SET_ID,
        runner: { command: `${config.Containers.CloudVMs.DeployRunnerDirectory}/crunch-run~${md5}`, md5, binary: RUNNER_BINARY },
        crunchRunEnv: { apiHost: 'zzzzz.example:443', apiToken: 'api-token', insecure: false },
        systemRootToken: 'root-token',
        driverName: 'ec2',
        publicKey: 'ssh-ed25519 AAAA dispatcher',
        ...over,
      });
    },
  };
}

/** Run the virtual clock for `ms`. */
export async function advance(engine: EventEngine, ms: number): Promise<void> {
  const until = engine.now() + ms;
  // A marker timer, so the clock reaches `until` even when nothing else is due.
  const marker = engine.setTimer(ms, () => {});
  await engine.run({ horizon: until });
  marker.cancel();
}

export const silentLogger = nullLogger;

/** Metrics kept in memory: `value('boot_outcomes', {outcome: 'failure'})`. */
export class RecordingMetrics {
  readonly values = new Map<string, number>();
  readonly observations = new Map<string, number[]>();
  private key(name: string, labels: Readonly<Record<string, string>>): string {
    const l = Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(',');
    return `${name}{${l}}`;
  }
  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.values.get(this.key(name, labels)) ?? 0;
  }
  gauge(name: string) {
    return {
      set: (labels: Readonly<Record<string, string>>, v: number) => void this.values.set(this.key(name, labels), v),
      reset: () => {
        for (const k of [...this.values.keys()]) if (k.startsWith(`${name}{`)) this.values.delete(k);
      },
    };
  }
  counter(name: string) {
    return {
      inc: (labels: Readonly<Record<string, string>>, by = 1) => {
        const k = this.key(name, labels);
        this.values.set(k, (this.values.get(k) ?? 0) + by);
      },
    };
  }
  summary(name: string) {
    return {
      observe: (_labels: Readonly<Record<string, string>>, v: number) => {
        const list = this.observations.get(name) ?? [];
        list.push(v);
        this.observations.set(name, list);
      },
    };
  }
}

/** The simulator's event engine as a virtual clock for core tests (core/ may not import sim/ itself). */
export function virtualClock(startMs = 0): EventEngine {
  return new EventEngine({ startMs });
}

/** Start `pool` (default: a new one) and wait for its first listing. */
export async function started(h: Harness, pool = h.newPool()): Promise<Pool> {
  pool.start();
  await advance(h.engine, 1);
  await pool.whenLoaded();
  return pool;
}

/** Create one VM per type and run the clock until every one is idle; returns the new ids. */
export async function createIdle(h: Harness, pool: Pool, types: readonly InstanceType[]): Promise<string[]> {
  const before = new Set(pool.snapshot().instances.map((i) => i.instanceId));
  for (const t of types) {
    if (!pool.create(t)) throw new Error(`createIdle: create ${t.name} refused`);
    await advance(h.engine, 1);
  }
  await advance(h.engine, 11_000);
  const ids = pool.snapshot().instances.filter((i) => !before.has(i.instanceId)).map((i) => i.instanceId);
  if (ids.length !== types.length) throw new Error(`createIdle: ${ids.length} new VMs, wanted ${types.length}`);
  for (const id of ids) if (stateOf(pool, id) !== 'idle') throw new Error(`createIdle: ${id} is ${String(stateOf(pool, id))}`);
  return ids;
}

export function stateOf(pool: Pool, id: string) {
  return pool.snapshot().instances.find((i) => i.instanceId === id)?.state;
}
export function viewOf(pool: Pool, id: string) {
  return pool.snapshot().instances.find((i) => i.instanceId === id);
}
