// The controller's container JSON (snake_case, as `GET arvados/v1/containers` returns it)
// to and from the typed Container. Parse with core/domain/json.ts first so that priorities
// above 2^53 arrive exact (as bigint); a number, a decimal string or a bigint are accepted.
import {
  CONTAINER_STATES,
  isContainerUuid,
  type Container,
  type ContainerState,
  type GpuRequest,
  type Mount,
  type RuntimeConstraints,
  type SchedulingParameters,
} from './container.js';
import { RecordError, describeFound } from './record-error.js';

type Obj = Readonly<Record<string, unknown>>;

const NO_GPU_REQUEST: GpuRequest = Object.freeze({ stack: '', deviceCount: 0, driverVersion: '', hardwareTarget: [], vram: 0 });
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/**
 * Parses one container record. Absent or null fields take the API's zero values (lock and
 * unlock responses carry only uuid, state, priority and locked_by_uuid).
 * @param path dotted path of the record, used in errors ('' for a whole file, 'items.3')
 * @throws RecordError naming the field path, what was expected and what was found
 */
export function parseContainerRecord(raw: unknown, path = ''): Container {
  const r = obj(raw, path);
  const at = (k: string): string => join(path, k);
  const uuid = r['uuid'];
  if (typeof uuid !== 'string' || !isContainerUuid(uuid)) {
    throw new RecordError(at('uuid'), `expected a container UUID like zzzzz-dz642-012345678901234, ${describeFound(uuid)}`);
  }
  const state = r['state'];
  if (typeof state !== 'string' || !(CONTAINER_STATES as readonly string[]).includes(state)) {
    throw new RecordError(at('state'), `expected one of ${CONTAINER_STATES.join(', ')}, ${describeFound(state)}`);
  }
  const lockedBy = r['locked_by_uuid'] ?? null;
  if (lockedBy !== null && typeof lockedBy !== 'string') {
    throw new RecordError(at('locked_by_uuid'), `expected a string or null, ${describeFound(lockedBy)}`);
  }
  const c: {
    -readonly [K in keyof Container]: Container[K];
  } = {
    uuid,
    state: state as ContainerState,
    priority: parsePriority(r['priority'], at('priority')),
    lockedByUuid: lockedBy === '' ? null : lockedBy,
    runtimeConstraints: parseRuntimeConstraints(r['runtime_constraints'], at('runtime_constraints')),
    schedulingParameters: parseSchedulingParameters(r['scheduling_parameters'], at('scheduling_parameters')),
    containerImage: str(r['container_image'], at('container_image')),
    createdAt: parseTimestamp(r['created_at'], at('created_at')),
  };
  if (r['mounts'] !== undefined && r['mounts'] !== null) c.mounts = parseMounts(r['mounts'], at('mounts'));
  if (r['lock_count'] !== undefined && r['lock_count'] !== null) c.lockCount = int(r['lock_count'], at('lock_count'));
  if (r['exit_code'] !== undefined) c.exitCode = r['exit_code'] === null ? null : int(r['exit_code'], at('exit_code'));
  if (r['runtime_status'] !== undefined && r['runtime_status'] !== null) c.runtimeStatus = obj(r['runtime_status'], at('runtime_status'));
  return c;
}

/** Priority as the API sends it: an int64 as a JSON number, a decimal string or a bigint. */
export function parsePriority(v: unknown, path: string): bigint {
  if (v === undefined || v === null) return 0n;
  let p: bigint | undefined;
  if (typeof v === 'bigint') p = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) p = BigInt(v);
  else if (typeof v === 'string' && /^-?[0-9]{1,19}$/.test(v)) p = BigInt(v);
  if (p === undefined || p > INT64_MAX || p < INT64_MIN) {
    throw new RecordError(path, `expected an integer priority (int64; a number above 2^53 must be parsed exactly), ${describeFound(v)}`);
  }
  return p;
}

function parseRuntimeConstraints(v: unknown, path: string): RuntimeConstraints {
  const r = obj(v ?? {}, path);
  let gpu = NO_GPU_REQUEST;
  if (r['gpu'] !== undefined && r['gpu'] !== null) {
    gpu = parseGpu(r['gpu'], join(path, 'gpu'));
  } else if (r['cuda'] !== undefined && r['cuda'] !== null) {
    // Pre-3.0 records: {device_count, driver_version, hardware_capability}; Rails now
    // translates them to gpu the same way.
    const cp = join(path, 'cuda');
    const cu = obj(r['cuda'], cp);
    const deviceCount = size(cu['device_count'], join(cp, 'device_count'));
    if (deviceCount > 0) {
      gpu = {
        stack: 'cuda',
        deviceCount,
        driverVersion: str(cu['driver_version'], join(cp, 'driver_version')),
        hardwareTarget: [str(cu['hardware_capability'], join(cp, 'hardware_capability'))],
        vram: 0,
      };
    }
  }
  return {
    vcpus: size(r['vcpus'], join(path, 'vcpus')),
    ram: size(r['ram'], join(path, 'ram')),
    keepCacheRam: size(r['keep_cache_ram'], join(path, 'keep_cache_ram')),
    keepCacheDisk: size(r['keep_cache_disk'], join(path, 'keep_cache_disk')),
    api: bool(r['API'], join(path, 'API')),
    gpu,
  };
}

function parseGpu(v: unknown, path: string): GpuRequest {
  const g = obj(v, path);
  const targets = g['hardware_target'] ?? [];
  if (!Array.isArray(targets)) throw new RecordError(join(path, 'hardware_target'), `expected a list of strings, ${describeFound(targets)}`);
  return {
    stack: str(g['stack'], join(path, 'stack')),
    deviceCount: size(g['device_count'], join(path, 'device_count')),
    driverVersion: str(g['driver_version'], join(path, 'driver_version')),
    hardwareTarget: targets.map((t: unknown, i) => str(t, join(path, `hardware_target.${i}`))),
    vram: size(g['vram'], join(path, 'vram')),
  };
}

function parseSchedulingParameters(v: unknown, path: string): SchedulingParameters {
  const r = obj(v ?? {}, path);
  const parts = r['partitions'] ?? [];
  if (!Array.isArray(parts)) throw new RecordError(join(path, 'partitions'), `expected a list of strings, ${describeFound(parts)}`);
  return {
    preemptible: bool(r['preemptible'], join(path, 'preemptible')),
    partitions: parts.map((p: unknown, i) => str(p, join(path, `partitions.${i}`))),
    maxRunTime: int(r['max_run_time'], join(path, 'max_run_time')),
    supervisor: bool(r['supervisor'], join(path, 'supervisor')),
  };
}

function parseMounts(v: unknown, path: string): Record<string, Mount> {
  const r = obj(v, path);
  const out: Record<string, Mount> = {};
  for (const name of Object.keys(r)) {
    const mp = join(path, name);
    const m = obj(r[name], mp);
    const mount: Mount = { kind: str(m['kind'], join(mp, 'kind')), capacity: size(m['capacity'], join(mp, 'capacity')) };
    Object.defineProperty(out, name, { value: mount, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** RFC 3339 time (any number of fraction digits) to ms since the epoch, truncating below 1 ms. */
export function parseTimestamp(v: unknown, path: string): number {
  if (v === undefined || v === null || v === '') return 0;
  const m = typeof v === 'string' ? RFC3339.exec(v) : null;
  if (m === null) throw new RecordError(path, `expected an RFC 3339 time like 2024-05-01T12:00:00.000000000Z, ${describeFound(v)}`);
  const num = (k: number): number => Number(m[k] ?? '0');
  const frac = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  const offset = m[8] !== undefined ? 0 : (m[9] === '-' ? -1 : 1) * (num(10) * 60 + num(11)) * 60_000;
  const ms = Date.UTC(num(1), num(2) - 1, num(3), num(4), num(5), num(6)) + frac - offset;
  if (!Number.isFinite(ms) || num(2) < 1 || num(2) > 12 || num(3) > 31 || num(4) > 23 || num(5) > 59 || num(6) > 60) {
    throw new RecordError(path, `expected an RFC 3339 time, ${describeFound(v)}`);
  }
  return ms;
}

/** ms since the epoch as Rails writes times: RFC 3339 UTC with 9 fraction digits. */
export function formatTimestamp(ms: number): string {
  const iso = new Date(Math.floor(ms)).toISOString();
  return `${iso.slice(0, 23)}000000Z`;
}

/**
 * The API's JSON form of a container (snake_case), for the controller stub and the
 * management API. `priority` stays a bigint: write it with stringifyJson (core/domain/json.ts).
 */
export function containerToApi(c: Container): Record<string, unknown> {
  const rc = c.runtimeConstraints;
  const sp = c.schedulingParameters;
  const out: Record<string, unknown> = {
    uuid: c.uuid,
    state: c.state,
    priority: c.priority,
    locked_by_uuid: c.lockedByUuid,
    runtime_constraints: {
      vcpus: rc.vcpus,
      ram: rc.ram,
      keep_cache_ram: rc.keepCacheRam,
      keep_cache_disk: rc.keepCacheDisk,
      API: rc.api,
      gpu: {
        stack: rc.gpu.stack,
        device_count: rc.gpu.deviceCount,
        driver_version: rc.gpu.driverVersion,
        hardware_target: [...rc.gpu.hardwareTarget],
        vram: rc.gpu.vram,
      },
    },
    scheduling_parameters: {
      preemptible: sp.preemptible,
      partitions: [...sp.partitions],
      max_run_time: sp.maxRunTime,
      supervisor: sp.supervisor,
    },
    container_image: c.containerImage,
    created_at: formatTimestamp(c.createdAt),
  };
  if (c.mounts !== undefined) {
    const mounts: Record<string, unknown> = {};
    for (const [name, m] of Object.entries(c.mounts)) {
      Object.defineProperty(mounts, name, { value: { kind: m.kind, capacity: m.capacity }, enumerable: true, writable: true, configurable: true });
    }
    out['mounts'] = mounts;
  }
  if (c.lockCount !== undefined) out['lock_count'] = c.lockCount;
  if (c.exitCode !== undefined) out['exit_code'] = c.exitCode;
  if (c.runtimeStatus !== undefined) out['runtime_status'] = c.runtimeStatus;
  return out;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RecordError(path, `expected an object, ${describeFound(v)}`);
  return v as Obj;
}

function str(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new RecordError(path, `expected a string, ${describeFound(v)}`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new RecordError(path, `expected true or false, ${describeFound(v)}`);
  return v;
}

function int(v: unknown, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new RecordError(path, `expected a whole number, ${describeFound(v)}`);
  return v;
}

/** A byte count or a count of VCPUs/devices: a non-negative safe integer. */
function size(v: unknown, path: string): number {
  const n = int(v, path);
  if (n < 0) throw new RecordError(path, `expected a whole number >= 0, got ${n}`);
  return n;
}
