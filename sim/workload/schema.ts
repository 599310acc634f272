import type { GpuRequest } from '../../core/domain/container.js';
import { ScenarioError } from '../scenario/scenario-error.js';
import { describe, join, readByteSize, readList, readMap, readNumber, readString, type Raw } from '../scenario/fields.js';
import { readChoice, readDist, readPriority, readProbability, type Choice, type Dist } from './distributions.js';
import {
  OUTCOMES,
  WORKLOAD_KINDS,
  type CommonFields,
  type ListItem,
  type Outcome,
  type WorkloadEntry,
  type WorkloadKind,
} from './types.js';

/**
 * Validates a scenario's raw `workload:` list (as parsed from YAML) into typed entries.
 * Unknown keys are errors; every error is a ScenarioError naming the path
 * (`workload[1].runtime`) and what was expected. Trace files are not read here (see
 * generate.ts), so validation needs no file system.
 */

/** Priority when a scenario gives none: arvados-cwl-runner's default request priority. */
export const DEFAULT_PRIORITY = 500n;
const DEFAULT_RAM_PER_VCPU = 2 * 1024 ** 3;

const COMMON_KEYS = ['kind', 'priority', 'preemptible', 'outcome', 'keepCacheRam'] as const;
const KEYS: Readonly<Record<WorkloadKind, readonly string[]>> = {
  poisson: [...COMMON_KEYS, 'count', 'ratePerHour', 'start', 'runtime', 'vcpus', 'ram', 'gpu'],
  burst: [...COMMON_KEYS, 'at', 'count', 'runtime', 'vcpus', 'ram', 'gpu'],
  list: ['kind', 'containers'],
  swf: [...COMMON_KEYS, 'path', 'limit', 'vcpusPerProcessor', 'maxVCPUs', 'ramPerVCPU', 'start', 'gpu'],
  'cluster-csv': [...COMMON_KEYS, 'path', 'limit', 'maxVCPUs', 'start', 'gpu'],
};
const LIST_ITEM_KEYS = ['at', 'runtime', 'vcpus', 'ram', 'priority', 'preemptible', 'outcome', 'keepCacheRam', 'gpu'];
const GPU_KEYS = ['stack', 'device_count', 'hardware_target', 'driver_version', 'vram'];

const ZERO: Dist = { kind: 'fixed', value: 0 };

export function readWorkload(v: Raw, path = 'workload'): WorkloadEntry[] {
  return readList(v, path).map((e, i) => readEntry(e, join(path, i)));
}

export function readEntry(v: Raw, path: string): WorkloadEntry {
  // The kind decides which keys are allowed, so read it before checking the others.
  const kindRaw = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Raw>).kind : readMap(v, path, []).kind;
  if (typeof kindRaw !== 'string' || !(WORKLOAD_KINDS as readonly string[]).includes(kindRaw)) {
    throw new ScenarioError(join(path, 'kind'), `expected one of ${WORKLOAD_KINDS.join(', ')}, got ${describe(kindRaw)}`);
  }
  const kind = kindRaw as WorkloadKind;
  const m = readMap(v, path, KEYS[kind]);
  const at = (key: string) => join(path, key);
  switch (kind) {
    case 'poisson':
      return {
        kind,
        ...readCommon(m, path),
        count: readNumber(required(m, path, 'count'), at('count'), { integer: true, min: 0 }),
        ratePerHour: readPositive(required(m, path, 'ratePerHour'), at('ratePerHour')),
        start: m.start === undefined ? ZERO : readDist(m.start, at('start')),
        runtime: readDist(required(m, path, 'runtime'), at('runtime')),
        vcpus: readChoice(required(m, path, 'vcpus'), at('vcpus'), readVcpus),
        ram: readChoice(required(m, path, 'ram'), at('ram'), readRam),
        gpu: m.gpu === undefined ? null : readGpu(m.gpu, at('gpu'), true),
      };
    case 'burst':
      return {
        kind,
        ...readCommon(m, path),
        at: readDist(required(m, path, 'at'), at('at')),
        count: readNumber(required(m, path, 'count'), at('count'), { integer: true, min: 0 }),
        runtime: readDist(required(m, path, 'runtime'), at('runtime')),
        vcpus: readChoice(required(m, path, 'vcpus'), at('vcpus'), readVcpus),
        ram: readChoice(required(m, path, 'ram'), at('ram'), readRam),
        gpu: m.gpu === undefined ? null : readGpu(m.gpu, at('gpu'), true),
      };
    case 'list':
      return {
        kind,
        containers: readList(required(m, path, 'containers'), at('containers')).map((c, i) =>
          readListItem(c, join(at('containers'), i)),
        ),
      };
    case 'swf':
      return {
        kind,
        ...readCommon(m, path),
        path: readPath(required(m, path, 'path'), at('path')),
        ...(m.limit === undefined ? {} : { limit: readNumber(m.limit, at('limit'), { integer: true, min: 1 }) }),
        vcpusPerProcessor: m.vcpusPerProcessor === undefined ? 1 : readPositive(m.vcpusPerProcessor, at('vcpusPerProcessor')),
        ...(m.maxVCPUs === undefined ? {} : { maxVCPUs: readNumber(m.maxVCPUs, at('maxVCPUs'), { integer: true, min: 1 }) }),
        ramPerVCPU: m.ramPerVCPU === undefined ? DEFAULT_RAM_PER_VCPU : readRam(m.ramPerVCPU, at('ramPerVCPU')),
        start: m.start === undefined ? ZERO : readDist(m.start, at('start')),
        gpu: m.gpu === undefined ? null : readGpu(m.gpu, at('gpu'), true),
      };
    case 'cluster-csv': {
      const gpu = m.gpu === undefined ? { stack: 'cuda', driverVersion: '', hardwareTarget: [], vram: 0 } : readGpu(m.gpu, at('gpu'), false);
      return {
        kind,
        ...readCommon(m, path),
        path: readPath(required(m, path, 'path'), at('path')),
        ...(m.limit === undefined ? {} : { limit: readNumber(m.limit, at('limit'), { integer: true, min: 1 }) }),
        ...(m.maxVCPUs === undefined ? {} : { maxVCPUs: readNumber(m.maxVCPUs, at('maxVCPUs'), { integer: true, min: 1 }) }),
        start: m.start === undefined ? ZERO : readDist(m.start, at('start')),
        gpu: { stack: gpu.stack, driverVersion: gpu.driverVersion, hardwareTarget: gpu.hardwareTarget, vram: gpu.vram },
      };
    }
  }
}

function readListItem(v: Raw, path: string): ListItem {
  const m = readMap(v, path, LIST_ITEM_KEYS);
  const at = (key: string) => join(path, key);
  return {
    ...readCommon(m, path),
    at: m.at === undefined ? ZERO : readDist(m.at, at('at')),
    runtime: readDist(required(m, path, 'runtime'), at('runtime')),
    vcpus: readChoice(required(m, path, 'vcpus'), at('vcpus'), readVcpus),
    ram: readChoice(required(m, path, 'ram'), at('ram'), readRam),
    gpu: m.gpu === undefined || m.gpu === null ? null : readGpu(m.gpu, at('gpu'), true),
  };
}

function readCommon(m: Record<string, Raw>, path: string): CommonFields {
  return {
    priority: m.priority === undefined ? { lo: DEFAULT_PRIORITY, hi: DEFAULT_PRIORITY } : readPriority(m.priority, join(path, 'priority')),
    preemptible: m.preemptible === undefined ? 0 : readProbability(m.preemptible, join(path, 'preemptible')),
    outcome: m.outcome === undefined ? ({ kind: 'fixed', value: 'complete' } satisfies Choice<Outcome>) : readChoice(m.outcome, join(path, 'outcome'), readOutcome),
    ...(m.keepCacheRam === undefined ? {} : { keepCacheRam: readByteSize(m.keepCacheRam, join(path, 'keepCacheRam')) }),
  };
}

/**
 * A GPU request in Arvados' runtime_constraints.gpu spelling. With `withCount` false it is
 * a template (cluster-csv) whose device count comes from each trace row.
 */
export function readGpu(v: Raw, path: string, withCount: boolean): GpuRequest {
  const m = readMap(v, path, withCount ? GPU_KEYS : GPU_KEYS.filter((k) => k !== 'device_count'));
  const stack = readString(required(m, path, 'stack'), join(path, 'stack'));
  if (stack === '') throw new ScenarioError(join(path, 'stack'), 'expected a GPU stack such as cuda or rocm, got an empty string');
  const hw = m.hardware_target === undefined ? [] : readList(m.hardware_target, join(path, 'hardware_target'));
  return {
    stack,
    deviceCount: m.device_count === undefined ? 1 : readNumber(m.device_count, join(path, 'device_count'), { integer: true, min: 1 }),
    hardwareTarget: hw.map((h, i) => readVersion(h, join(join(path, 'hardware_target'), i))),
    driverVersion: m.driver_version === undefined ? '' : readVersion(m.driver_version, join(path, 'driver_version')),
    vram: m.vram === undefined ? 0 : readByteSize(m.vram, join(path, 'vram')),
  };
}

/** Versions must be strings: YAML reads an unquoted 8.0 as the number 8. */
function readVersion(v: Raw, path: string): string {
  if (typeof v === 'number') throw new ScenarioError(path, `expected a version string: quote it ("${v}" loses any trailing .0 as a number)`);
  return readString(v, path);
}

function readVcpus(v: Raw, path: string): number {
  return readNumber(v, path, { integer: true, min: 0 });
}

function readRam(v: Raw, path: string): number {
  const n = readByteSize(v, path);
  if (n < 1) throw new ScenarioError(path, 'expected a size above 0');
  return n;
}

function readOutcome(v: Raw, path: string): Outcome {
  if (typeof v !== 'string' || !(OUTCOMES as readonly string[]).includes(v)) {
    throw new ScenarioError(path, `expected one of ${OUTCOMES.join(', ')}, got ${describe(v)}`);
  }
  return v as Outcome;
}

function readPositive(v: Raw, path: string): number {
  const n = readNumber(v, path, { min: 0 });
  if (n === 0) throw new ScenarioError(path, 'expected a number above 0, got 0');
  return n;
}

function readPath(v: Raw, path: string): string {
  const s = readString(v, path);
  if (s === '') throw new ScenarioError(path, 'expected a file path, got an empty string');
  return s;
}

function required(m: Record<string, Raw>, path: string, key: string): Raw {
  const v = m[key];
  if (v === undefined) throw new ScenarioError(join(path, key), 'required');
  return v;
}
