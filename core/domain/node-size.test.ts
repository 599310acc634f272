// Parity tests for lib/dispatchcloud/container/node_size.go; each describe block is named
// after the Arvados test whose behaviour it checks (node_size_test.go).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../config/cluster-config.js';
import { parseClusterBody } from '../config/parse-cluster-config.js';
import { ConstraintsNotSatisfiableError } from '../ports/errors.js';
import type { Container, GpuRequest } from './container.js';
import { InstanceTypeChooser } from './instance-type-chooser.js';
import type { InstanceType } from './instance-type.js';
import {
  accommodates,
  chooseInstanceType,
  compareInstanceTypes,
  estimateDockerImageSize,
  estimateScratchSpace,
  resourcesNeeded,
  subtract,
  subtractInPlace,
  typeResources,
  type MutableResources,
} from './node-size.js';
import type { Resources } from './resources.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** A cluster with these InstanceTypes bodies; no RAM overheads unless `containers` adds them. */
function cluster(types: Record<string, unknown>, containers: Record<string, unknown> = {}): ClusterConfig {
  return parseClusterBody(
    { Containers: { ReserveExtraRAM: 0, LocalKeepBlobBuffersPerVCPU: 0, ...containers }, InstanceTypes: types },
    { path: 'cluster', clusterId: 'zzzzz' },
  ).config;
}

function ctr(
  o: {
    vcpus?: number;
    ram?: number;
    keepCacheRam?: number;
    keepCacheDisk?: number;
    tmp?: number;
    image?: string;
    preemptible?: boolean;
    gpu?: Partial<GpuRequest>;
  } = {},
): Container {
  return {
    uuid: 'zzzzz-dz642-000000000000000',
    state: 'Queued',
    priority: 1n,
    lockedByUuid: null,
    runtimeConstraints: {
      vcpus: o.vcpus ?? 1,
      ram: o.ram ?? 0,
      keepCacheRam: o.keepCacheRam ?? 0,
      keepCacheDisk: o.keepCacheDisk ?? 0,
      api: false,
      gpu: { stack: '', deviceCount: 0, driverVersion: '', hardwareTarget: [], vram: 0, ...o.gpu },
    },
    schedulingParameters: { preemptible: o.preemptible ?? false, partitions: [], maxRunTime: 0, supervisor: false },
    containerImage: o.image ?? '',
    mounts: o.tmp === undefined ? {} : { '/tmp': { kind: 'tmp', capacity: o.tmp } },
    createdAt: 0,
  };
}

const names = (ts: readonly InstanceType[]): string[] => ts.map((t) => t.name);

function unsatisfiable(f: () => unknown): ConstraintsNotSatisfiableError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConstraintsNotSatisfiableError) return e;
    throw e;
  }
  throw new Error('expected ConstraintsNotSatisfiableError');
}

describe('TestChooseNotConfigured', () => {
  it('no instance types configured is an error', () => {
    const e = unsatisfiable(() => chooseInstanceType(cluster({}), ctr()));
    expect(e.message).toBe('site configuration does not list any instance types');
  });
});

describe('TestChooseUnsatisfiable', () => {
  const menu = {
    small1: { VCPUs: 2, RAM: 123456789, IncludedScratch: '100GB', Price: 1.1 },
    small2: { VCPUs: 4, RAM: 223456789, IncludedScratch: '100GB', Price: 2.2 },
    small4: { VCPUs: 8, RAM: 423456789, IncludedScratch: '100GB', Price: 4.4 },
  };
  it.each([
    ['RAM', ctr({ vcpus: 2, ram: 9876543210 })],
    ['VCPUs', ctr({ vcpus: 20, ram: 1 })],
    ['keep_cache_ram', ctr({ vcpus: 2, ram: 1, keepCacheRam: 9876543210 })],
    ['tmp scratch', ctr({ vcpus: 2, ram: 1, tmp: 2e12 })],
    ['keep_cache_disk', ctr({ vcpus: 2, ram: 1, keepCacheDisk: 2e12 })],
  ])('%s that no type can meet gives ConstraintsNotSatisfiableError', (_what, c) => {
    const e = unsatisfiable(() => chooseInstanceType(cluster(menu), c));
    expect(e.message).toBe('constraints not satisfiable by any configured instance type');
    expect(e.kind).toBe('constraints-not-satisfiable');
    expect(e.availableTypes).toEqual(['small1', 'small2', 'small4']);
  });
});

describe('TestChoose', () => {
  it('the cheapest sufficient type wins', () => {
    const cc = cluster({
      costly: { VCPUs: 8, RAM: 4e9, IncludedScratch: '2GiB', Price: 4.4 },
      best: { VCPUs: 4, RAM: 2e9, IncludedScratch: '2GiB', Price: 2.2 },
      small: { VCPUs: 2, RAM: 1e9, IncludedScratch: '2GiB', Price: 1.1 },
    });
    expect(names(chooseInstanceType(cc, ctr({ vcpus: 2, ram: 987654321, keepCacheRam: 123456789 })))).toEqual(['best']);
  });

  it('on equal price, more RAM wins, then more VCPUs, then more scratch, then the name', () => {
    const cc = cluster(
      {
        ram: { VCPUs: 4, RAM: '4GiB', IncludedScratch: '10GB', Price: 1 },
        less_ram: { VCPUs: 8, RAM: '3GiB', IncludedScratch: '90GB', Price: 1 },
        vcpu_b: { VCPUs: 2, RAM: '3GiB', IncludedScratch: '90GB', Price: 1 },
        vcpu_a: { VCPUs: 2, RAM: '3GiB', IncludedScratch: '90GB', Price: 1 },
        scratch: { VCPUs: 2, RAM: '3GiB', IncludedScratch: '10GB', Price: 1 },
        dearer: { VCPUs: 16, RAM: '64GiB', IncludedScratch: '900GB', Price: 1.2 },
      },
      { MaximumPriceFactor: 1.5 },
    );
    expect(names(chooseInstanceType(cc, ctr({ vcpus: 1, ram: GiB })))).toEqual(['ram', 'less_ram', 'vcpu_a', 'vcpu_b', 'scratch', 'dearer']);
  });

  it('needs include ReserveExtraRAM and blob buffers, inflated by 100/95', () => {
    const c = ctr({ vcpus: 2, ram: GiB, keepCacheRam: 100 * MiB });
    const cc = cluster({}, { ReserveExtraRAM: '550MiB', LocalKeepBlobBuffersPerVCPU: 1 });
    const expected = Math.floor(((GiB + 100 * MiB + 550 * MiB + 220 * MiB + Math.floor((2 * 64 * MiB * 11) / 10)) * 100) / 95);
    expect(resourcesNeeded(cc, c).ram).toBe(expected);
    const menu = {
      short: { VCPUs: 2, RAM: expected - 1, Price: 1 },
      enough: { VCPUs: 2, RAM: expected, Price: 2 },
    };
    expect(names(chooseInstanceType(cluster(menu, { ReserveExtraRAM: '550MiB', LocalKeepBlobBuffersPerVCPU: 1 }), c))).toEqual(['enough']);
  });

  it('with MaximumPriceFactor 1 every returned type has the same price', () => {
    const cc = cluster(
      {
        a: { VCPUs: 2, RAM: '4GiB', Price: 1 },
        b: { VCPUs: 4, RAM: '4GiB', Price: 1 },
        c: { VCPUs: 4, RAM: '8GiB', Price: 1.01 },
      },
      { MaximumPriceFactor: 1 },
    );
    expect(names(chooseInstanceType(cc, ctr({ ram: GiB })))).toEqual(['b', 'a']);
  });

  it('a factor below 1 is treated as 1', () => {
    const cc = cluster({ a: { VCPUs: 2, RAM: '4GiB', Price: 1 }, b: { VCPUs: 2, RAM: '4GiB', Price: 1.2 } }, { MaximumPriceFactor: 0.5 });
    expect(names(chooseInstanceType(cc, ctr({ ram: GiB })))).toEqual(['a']);
  });
});

describe('TestMaximumPriceFactor', () => {
  it('factor 1.5 with cheapest eligible $2 returns the 5 types up to $3, sorted', () => {
    const cc = cluster(
      {
        tiny: { VCPUs: 1, RAM: '1GiB', Price: 1 },
        p40: { VCPUs: 8, RAM: '16GiB', Price: 4 },
        p31: { VCPUs: 8, RAM: '16GiB', Price: 3.1 },
        p30: { VCPUs: 8, RAM: '16GiB', Price: 3 },
        p29: { VCPUs: 8, RAM: '16GiB', Price: 2.9 },
        p25: { VCPUs: 8, RAM: '16GiB', Price: 2.5 },
        p21: { VCPUs: 8, RAM: '16GiB', Price: 2.1 },
        p20: { VCPUs: 8, RAM: '16GiB', Price: 2 },
      },
      { MaximumPriceFactor: 1.5 },
    );
    expect(names(chooseInstanceType(cc, ctr({ vcpus: 4, ram: 8 * GiB })))).toEqual(['p20', 'p21', 'p25', 'p29', 'p30']);
  });

  it('uses the Arvados default factor 1.5', () => {
    const cc = parseClusterBody(
      { InstanceTypes: { a: { VCPUs: 4, RAM: '16GiB', Price: 1 }, b: { VCPUs: 4, RAM: '16GiB', Price: 1.5 }, c: { VCPUs: 4, RAM: '16GiB', Price: 1.51 } } },
      { path: 'cluster', clusterId: 'zzzzz' },
    ).config;
    expect(names(chooseInstanceType(cc, ctr({ ram: GiB })))).toEqual(['a', 'b']);
  });
});

describe('TestChooseWithBlobBuffersOverhead', () => {
  const menu = {
    gb4: { VCPUs: 4, RAM: 4e9, Price: 1 },
    gb8: { VCPUs: 4, RAM: 8e9, Price: 2 },
  };
  it('16 buffers per VCPU push the need to the 8 GB type', () => {
    expect(names(chooseInstanceType(cluster(menu, { LocalKeepBlobBuffersPerVCPU: 16 }), ctr({ vcpus: 4, ram: GiB })))).toEqual(['gb8']);
  });
  it('without blob buffers the 4 GB type suffices', () => {
    expect(names(chooseInstanceType(cluster(menu, { LocalKeepBlobBuffersPerVCPU: 0 }), ctr({ vcpus: 4, ram: GiB })))).toEqual(['gb4']);
  });
});

describe('TestChoosePreemptible', () => {
  const menu = {
    ondemand: { VCPUs: 2, RAM: '4GiB', Price: 1 },
    spot: { VCPUs: 2, RAM: '4GiB', Price: 0.3, Preemptible: true },
  };
  it('a preemptible container only gets preemptible types', () => {
    expect(names(chooseInstanceType(cluster(menu), ctr({ preemptible: true })))).toEqual(['spot']);
  });
  it('a non-preemptible container never gets a preemptible type, even a cheaper one', () => {
    expect(names(chooseInstanceType(cluster(menu), ctr({ preemptible: false })))).toEqual(['ondemand']);
  });
  it('PreemptiblePriceFactor variants serve preemptible containers', () => {
    const cc = cluster({ a: { VCPUs: 2, RAM: '4GiB', Price: 1 } }, { PreemptiblePriceFactor: 0.4 });
    const [t] = chooseInstanceType(cc, ctr({ preemptible: true }));
    expect(t).toMatchObject({ name: 'a.preemptible', providerType: 'a', price: 0.4, preemptible: true });
  });
});

describe('TestScratchForDockerImage', () => {
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  it('a PDH of size 342 needs 2 x 384 MiB of scratch', () => {
    expect(estimateDockerImageSize(`${md5}+342`)).toBe(384 * MiB);
    expect(estimateScratchSpace(ctr({ image: `${md5}+342` }))).toBe(805306368);
  });
  it.each([`${md5}+121`, `${md5}+0`, `${md5}`, `${md5.toUpperCase()}+342`, `${md5}+342+K@zzzzz`, 'arvados/jobs:latest', '', `${md5}+99999999999999999999`])(
    'a malformed or short PDH %j gives 0',
    (pdh) => {
      expect(estimateDockerImageSize(pdh)).toBe(0);
    },
  );
  it('the smallest estimated manifest is 122 bytes: one 64 MiB block', () => {
    expect(estimateDockerImageSize(`${md5}+122`)).toBe(64 * MiB);
  });
  it('tmp mounts are raised to at least the image size, then the image and keep_cache_disk are added', () => {
    expect(estimateScratchSpace(ctr({ image: `${md5}+342`, tmp: 100 * MiB, keepCacheDisk: 10 }))).toBe(384 * MiB + 384 * MiB + 10);
    expect(estimateScratchSpace(ctr({ image: `${md5}+342`, tmp: GiB }))).toBe(GiB + 384 * MiB);
    const twoTmp: Container = { ...ctr(), mounts: { a: { kind: 'tmp', capacity: 5 }, b: { kind: 'tmp', capacity: 7 }, c: { kind: 'collection', capacity: 100 } } };
    expect(estimateScratchSpace(twoTmp)).toBe(12);
  });
});

describe('TestChooseGPU', () => {
  const gpuType = (target: string, driver = '12.0', count = 1, vram = '16GiB', stack = 'cuda', price = 1) => ({
    VCPUs: 8, RAM: '32GiB', Price: price,
    GPU: { Stack: stack, DriverVersion: driver, HardwareTarget: target, DeviceCount: count, VRAM: vram },
  });
  const cuda = (o: Partial<GpuRequest>): Container => ctr({ gpu: { stack: 'cuda', deviceCount: 1, driverVersion: '11.0', hardwareTarget: ['8.0'], vram: 0, ...o } });
  const menu = {
    cpu: { VCPUs: 8, RAM: '32GiB', Price: 0.5 },
    t75: gpuType('7.5', '12.0', 1, '16GiB', 'cuda', 1),
    t86: gpuType('8.6', '12.0', 1, '24GiB', 'cuda', 2),
    t90: gpuType('9.0', '12.0', 4, '80GiB', 'cuda', 8),
    oldDriver: gpuType('9.0', '10.2', 1, '80GiB', 'cuda', 1.5),
    mi: gpuType('gfx90a', '6.0', 2, '64GiB', 'rocm', 3),
  };
  const cc = cluster(menu, { MaximumPriceFactor: 100 });

  it('cuda with one requested target compares versions: the type must be >= it', () => {
    expect(names(chooseInstanceType(cc, cuda({ hardwareTarget: ['8.0'] })))).toEqual(['t86', 't90']);
    expect(names(chooseInstanceType(cc, cuda({ hardwareTarget: ['7.0'] })))).toEqual(['t75', 't86', 't90']);
  });
  it('cuda with several requested targets needs an exact match with one of them', () => {
    expect(names(chooseInstanceType(cc, cuda({ hardwareTarget: ['7.5', '9.0'] })))).toEqual(['t75', 't90']);
    unsatisfiable(() => chooseInstanceType(cc, cuda({ hardwareTarget: ['8.0', '8.9'] })));
  });
  it('the driver version must be at least the requested one (float compare)', () => {
    expect(names(chooseInstanceType(cc, cuda({ hardwareTarget: ['9.0'], driverVersion: '11.0' })))).toEqual(['t90']);
    expect(names(chooseInstanceType(cc, cuda({ hardwareTarget: ['9.0'], driverVersion: '10.0' })))).toEqual(['oldDriver', 't90']);
    unsatisfiable(() => chooseInstanceType(cc, cuda({ driverVersion: '12.1' })));
  });
  it('an unparseable requested driver version rejects every GPU type', () => {
    unsatisfiable(() => chooseInstanceType(cc, cuda({ driverVersion: '' })));
  });
  it('VRAM per GPU must suffice, and VRAM 0 is not special', () => {
    expect(names(chooseInstanceType(cc, cuda({ hardwareTarget: ['7.0'], vram: 20 * GiB })))).toEqual(['t86', 't90']);
    expect(names(chooseInstanceType(cc, cuda({ hardwareTarget: ['7.0'], vram: 0 })))).toEqual(['t75', 't86', 't90']);
  });
  it('the device count must suffice', () => {
    expect(names(chooseInstanceType(cc, cuda({ hardwareTarget: ['7.0'], deviceCount: 2 })))).toEqual(['t90']);
  });
  it('rocm needs the type target in the requested list', () => {
    expect(names(chooseInstanceType(cc, ctr({ gpu: { stack: 'rocm', deviceCount: 1, driverVersion: '5.0', hardwareTarget: ['gfx90a', 'gfx942'] } })))).toEqual(['mi']);
    unsatisfiable(() => chooseInstanceType(cc, ctr({ gpu: { stack: 'rocm', deviceCount: 1, driverVersion: '5.0', hardwareTarget: ['gfx1100'] } })));
  });
  it('cuda with no requested target is unsatisfiable', () => {
    unsatisfiable(() => chooseInstanceType(cc, cuda({ hardwareTarget: [] })));
  });
  it('non-GPU containers only get non-GPU types', () => {
    expect(names(chooseInstanceType(cc, ctr({ vcpus: 4 })))).toEqual(['cpu']);
  });
  it('a GPU container never gets a non-GPU type', () => {
    for (const t of chooseInstanceType(cc, cuda({ hardwareTarget: ['7.0'] }))) expect(t.gpu.stack).toBe('cuda');
  });
  it('an unknown GPU stack is an error', () => {
    const e = unsatisfiable(() => chooseInstanceType(cc, ctr({ gpu: { stack: 'opencl', deviceCount: 1 } })));
    expect(e.message).toBe(`Invalid GPU stack "opencl", expected to be blank or one of 'cuda' or 'rocm'`);
  });
  it('needs GPUs and VRAM as requested', () => {
    const r = resourcesNeeded(cc, cuda({ deviceCount: 2, vram: 8 * GiB }));
    expect([r.gpus, r.gpuVram]).toEqual([2, 8 * GiB]);
  });
});

describe('TestInstanceResources', () => {
  const res = (vcpus: number, ram = 10, shared = false): Resources => ({ vcpus, ram, scratch: 10, gpus: 0, gpuVram: 0, sharedVcpuUsed: shared });
  it.each([
    // have, need, accommodates
    [res(4), res(4), true],
    [res(4), res(5), false],
    [res(4), res(4, 11), false],
    [res(4), res(0), true],
    [res(0), res(0), false], // a 0-VCPU container still needs a VCPU to share
    [res(1, 10, true), res(0), true], // 0-VCPU containers share the one VCPU
    [res(4, 10, true), res(4), false], // the shared VCPU is not available
    [res(4, 10, true), res(3), true],
    [res(1, 10, true), res(1), false],
  ])('accommodates(%o, %o) = %s', (have, need, ok) => {
    expect(accommodates(have, need)).toBe(ok);
  });

  it('subtracting a 0-VCPU need sets sharedVcpuUsed, and it stays set', () => {
    const a = subtract(res(4), res(0, 1));
    expect(a).toEqual({ vcpus: 4, ram: 9, scratch: 0, gpus: 0, gpuVram: 0, sharedVcpuUsed: true });
    expect(subtract(a, res(1, 1)).sharedVcpuUsed).toBe(true);
    expect(subtract(res(4), res(1)).sharedVcpuUsed).toBe(false);
  });

  it('an N-VCPU container never shares an N-VCPU instance with a 0-VCPU one', () => {
    const have = subtract(typeResources({ name: 'x', providerType: 'x', vcpus: 2, ram: 100, scratch: 100, includedScratch: 100, addedScratch: 0, price: 1, preemptible: false, gpu: { stack: '', driverVersion: '', hardwareTarget: '', deviceCount: 0, vram: 0 } }), res(0, 1));
    expect(accommodates(have, res(2, 1))).toBe(false);
    expect(accommodates(have, res(1, 1))).toBe(true);
  });

  it('subtractInPlace matches subtract without allocating', () => {
    const m: MutableResources = { vcpus: 4, ram: 10, scratch: 10, gpus: 1, gpuVram: 5 };
    subtractInPlace(m, res(0, 3));
    expect(m).toEqual(subtract({ vcpus: 4, ram: 10, scratch: 10, gpus: 1, gpuVram: 5 }, res(0, 3)));
  });

  it('a 0-VCPU container needs no VCPUs', () => {
    expect(resourcesNeeded(cluster({}), ctr({ vcpus: 0 })).vcpus).toBe(0);
  });
});

describe('InstanceTypeChooser', () => {
  it('returns what chooseInstanceType returns, memoized by constraints', () => {
    const cc = cluster({ a: { VCPUs: 2, RAM: '4GiB', Price: 1 }, b: { VCPUs: 4, RAM: '8GiB', Price: 1.2 } });
    const chooser = new InstanceTypeChooser(cc);
    const first = chooser.choose(ctr({ ram: GiB }));
    expect(names(first)).toEqual(names(chooseInstanceType(cc, ctr({ ram: GiB }))));
    expect(chooser.choose({ ...ctr({ ram: GiB }), uuid: 'zzzzz-dz642-111111111111111' })).toBe(first);
    expect(names(chooser.choose(ctr({ vcpus: 3 })))).toEqual(['b']);
    const e1 = unsatisfiable(() => chooser.choose(ctr({ vcpus: 64 })));
    expect(unsatisfiable(() => chooser.choose(ctr({ vcpus: 64 })))).toBe(e1);
    expect(chooser.size).toBe(3);
  });
});

describe('chooseInstanceType properties', () => {
  const typeArb = fc.record({
    VCPUs: fc.integer({ min: 1, max: 64 }),
    RAM: fc.integer({ min: 1, max: 256 }).map((g) => g * GiB),
    IncludedScratch: fc.integer({ min: 0, max: 1000 }).map((g) => g * 1e9),
    Price: fc.integer({ min: 1, max: 500 }).map((c) => c / 100),
    Preemptible: fc.boolean(),
  });
  const clusterArb = fc.record({
    types: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), typeArb, { minKeys: 1, maxKeys: 12 }),
    factor: fc.constantFrom(0, 1, 1.2, 1.5, 3),
  });
  const ctrArb = fc.record({
    vcpus: fc.integer({ min: 0, max: 32 }),
    ram: fc.integer({ min: 0, max: 64 }).map((g) => g * GiB),
    tmp: fc.integer({ min: 0, max: 500 }).map((g) => g * 1e9),
    preemptible: fc.boolean(),
  });

  it('the result is sorted, all satisfy the need, all are within the factor of the first', () => {
    fc.assert(
      fc.property(clusterArb, ctrArb, ({ types, factor }, c) => {
        const cc = cluster(types, { MaximumPriceFactor: factor, ReserveExtraRAM: '256MiB', LocalKeepBlobBuffersPerVCPU: 1 });
        const container = ctr(c);
        const need = resourcesNeeded(cc, container);
        const fits = (t: InstanceType): boolean =>
          t.vcpus >= need.vcpus && t.ram >= need.ram && t.scratch >= need.scratch && t.preemptible === c.preemptible;
        let result: InstanceType[];
        try {
          result = chooseInstanceType(cc, container);
        } catch (e) {
          expect(e).toBeInstanceOf(ConstraintsNotSatisfiableError);
          expect(Object.values(cc.InstanceTypes).some(fits)).toBe(false);
          return;
        }
        expect(result.length).toBeGreaterThan(0);
        for (let i = 1; i < result.length; i++) {
          expect(compareInstanceTypes(result[i - 1] as InstanceType, result[i] as InstanceType)).toBeLessThan(0);
        }
        for (const t of result) expect(fits(t)).toBe(true);
        const first = result[0] as InstanceType;
        for (const t of result) expect(t.price).toBeLessThanOrEqual(first.price * Math.max(factor, 1));
        // Nothing left out that fits and is within the factor.
        const expected = Object.values(cc.InstanceTypes).filter((t) => fits(t) && t.price <= first.price * Math.max(factor, 1));
        expect(result.length).toBe(expected.length);
      }),
      { numRuns: 200 },
    );
  });
});
