import { describe, expect, it } from 'vitest';
import { containerToApi, formatTimestamp, parseContainerRecord, parsePriority, parseTimestamp } from './container-record.js';
import { parseJson, stringifyJson } from './json.js';
import { RecordError } from './record-error.js';

const UUID = 'zzzzz-dz642-0123456789abcde';

const full = {
  uuid: UUID,
  state: 'Locked',
  priority: '562948375092493200',
  locked_by_uuid: 'zzzzz-gj3su-000000000000000',
  runtime_constraints: {
    vcpus: 4,
    ram: 8589934592,
    keep_cache_ram: 268435456,
    keep_cache_disk: 2147483648,
    API: true,
    gpu: { stack: 'cuda', device_count: 2, driver_version: '12.0', hardware_target: ['8.0', '9.0'], vram: 17179869184 },
  },
  scheduling_parameters: { preemptible: true, partitions: ['fast'], max_run_time: 3600, supervisor: true },
  container_image: 'd41d8cd98f00b204e9800998ecf8427e+1234',
  mounts: { '/tmp': { kind: 'tmp', capacity: 1000 }, '/keep': { kind: 'collection', portable_data_hash: 'x' } },
  created_at: '2025-03-14T09:26:53.589793238Z',
  lock_count: 2,
  exit_code: null,
  runtime_status: { error: 'x' },
};

function recordError(f: () => unknown): RecordError {
  try {
    f();
  } catch (e) {
    if (e instanceof RecordError) return e;
    throw e;
  }
  throw new Error('expected a RecordError');
}

describe('parseContainerRecord', () => {
  it('reads every field the dispatcher uses', () => {
    const c = parseContainerRecord(full);
    expect(c).toEqual({
      uuid: UUID,
      state: 'Locked',
      priority: 562948375092493200n,
      lockedByUuid: 'zzzzz-gj3su-000000000000000',
      runtimeConstraints: {
        vcpus: 4,
        ram: 8589934592,
        keepCacheRam: 268435456,
        keepCacheDisk: 2147483648,
        api: true,
        gpu: { stack: 'cuda', deviceCount: 2, driverVersion: '12.0', hardwareTarget: ['8.0', '9.0'], vram: 17179869184 },
      },
      schedulingParameters: { preemptible: true, partitions: ['fast'], maxRunTime: 3600, supervisor: true },
      containerImage: 'd41d8cd98f00b204e9800998ecf8427e+1234',
      mounts: { '/tmp': { kind: 'tmp', capacity: 1000 }, '/keep': { kind: 'collection', capacity: 0 } },
      createdAt: Date.UTC(2025, 2, 14, 9, 26, 53, 589),
      lockCount: 2,
      exitCode: null,
      runtimeStatus: { error: 'x' },
    });
  });

  it('takes zero values for absent fields (lock responses carry only a few)', () => {
    const c = parseContainerRecord({ uuid: UUID, state: 'Queued', priority: 1, locked_by_uuid: null });
    expect(c.runtimeConstraints).toEqual({
      vcpus: 0, ram: 0, keepCacheRam: 0, keepCacheDisk: 0, api: false,
      gpu: { stack: '', deviceCount: 0, driverVersion: '', hardwareTarget: [], vram: 0 },
    });
    expect(c.schedulingParameters).toEqual({ preemptible: false, partitions: [], maxRunTime: 0, supervisor: false });
    expect(c.createdAt).toBe(0);
    expect(c.mounts).toBeUndefined();
    expect(c.lockedByUuid).toBeNull();
  });

  it('translates a pre-3.0 cuda constraint to gpu, as Rails does', () => {
    const c = parseContainerRecord({
      uuid: UUID, state: 'Queued',
      runtime_constraints: { cuda: { device_count: 1, driver_version: '11.0', hardware_capability: '7.5' } },
    });
    expect(c.runtimeConstraints.gpu).toEqual({ stack: 'cuda', deviceCount: 1, driverVersion: '11.0', hardwareTarget: ['7.5'], vram: 0 });
  });

  it('keeps priority 999999999999999999 exact through parseJson, parse, containerToApi and stringifyJson', () => {
    const text = `{"uuid":"${UUID}","state":"Queued","priority":999999999999999999}`;
    const c = parseContainerRecord(parseJson(text));
    expect(c.priority).toBe(999999999999999999n);
    const out = stringifyJson(containerToApi(c));
    expect(out).toContain('"priority":999999999999999999,');
    expect(parseContainerRecord(parseJson(out)).priority).toBe(999999999999999999n);
  });

  it('round-trips a full record through containerToApi', () => {
    const c = parseContainerRecord(full);
    expect(parseContainerRecord(parseJson(stringifyJson(containerToApi(c))))).toEqual(c);
  });

  it.each([
    [{ ...full, uuid: 'nope' }, 'uuid', /expected a container UUID/],
    [{ ...full, state: 'Running ' }, 'state', /expected one of Queued, Locked, Running, Complete, Cancelled, got "Running "/],
    [{ ...full, priority: 1.5 }, 'priority', /expected an integer priority/],
    [{ ...full, priority: 2 ** 60 }, 'priority', /expected an integer priority/],
    [{ ...full, priority: '1e3' }, 'priority', /expected an integer priority/],
    [{ ...full, priority: 9223372036854775808n }, 'priority', /expected an integer priority/],
    [{ ...full, locked_by_uuid: 5 }, 'locked_by_uuid', /expected a string or null/],
    [{ ...full, runtime_constraints: { ram: '8GiB' } }, 'runtime_constraints.ram', /expected a whole number, got "8GiB"/],
    [{ ...full, runtime_constraints: { vcpus: -1 } }, 'runtime_constraints.vcpus', /expected a whole number >= 0/],
    [{ ...full, runtime_constraints: { gpu: { hardware_target: '8.0' } } }, 'runtime_constraints.gpu.hardware_target', /expected a list of strings/],
    [{ ...full, runtime_constraints: { gpu: { hardware_target: [8] } } }, 'runtime_constraints.gpu.hardware_target.0', /expected a string, got 8/],
    [{ ...full, scheduling_parameters: { preemptible: 'true' } }, 'scheduling_parameters.preemptible', /expected true or false/],
    [{ ...full, mounts: { '/tmp': { kind: 'tmp', capacity: 'big' } } }, 'mounts./tmp.capacity', /expected a whole number/],
    [{ ...full, created_at: 'yesterday' }, 'created_at', /expected an RFC 3339 time/],
    [{ ...full, created_at: '2025-13-01T00:00:00Z' }, 'created_at', /expected an RFC 3339 time/],
    [[], '', /expected an object, got a list/],
  ])('rejects bad input at the exact path (%#)', (raw, path, re) => {
    const e = recordError(() => parseContainerRecord(raw));
    expect(e.path).toBe(path);
    expect(e.problem).toMatch(re);
  });

  it('prefixes paths with the record path', () => {
    expect(recordError(() => parseContainerRecord({ ...full, runtime_constraints: { ram: -1 } }, 'items.3')).path).toBe('items.3.runtime_constraints.ram');
  });
});

describe('priorities and times', () => {
  it('accepts numbers, decimal strings and bigints as priority', () => {
    expect(parsePriority(1000, 'p')).toBe(1000n);
    expect(parsePriority('-5', 'p')).toBe(-5n);
    expect(parsePriority(9223372036854775807n, 'p')).toBe(9223372036854775807n);
    expect(parsePriority(null, 'p')).toBe(0n);
  });

  it('parses RFC 3339 with any fraction and offset', () => {
    expect(parseTimestamp('2024-01-02T03:04:05Z', 't')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(parseTimestamp('2024-01-02T03:04:05.5Z', 't')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 500));
    expect(parseTimestamp('2024-01-02T05:04:05.123456789+02:00', 't')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 123));
    expect(parseTimestamp('2024-01-02T00:04:05-03:00', 't')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
  });

  it('formats times as Rails does (UTC, 9 fraction digits)', () => {
    expect(formatTimestamp(Date.UTC(2024, 0, 2, 3, 4, 5, 123))).toBe('2024-01-02T03:04:05.123000000Z');
  });
});
