// Sizing and instance-type choice with Arvados parity (lib/dispatchcloud/container/
// node_size.go): what a container needs, whether an instance's remaining resources can take
// it, and which configured instance types are eligible, cheapest first.
import type { ClusterConfig } from '../config/cluster-config.js';
import { versionLess } from '../config/go-float.js';
import { ConstraintsNotSatisfiableError } from '../ports/errors.js';
import type { Container } from './container.js';
import type { InstanceType } from './instance-type.js';
import type { Resources } from './resources.js';

/** Resources the scheduler updates in place in its hot loops (see subtractInPlace). */
export type MutableResources = { -readonly [K in keyof Resources]: Resources[K] };

/** Arvados assumes ~5% of a type's nominal RAM is unusable, and inflates needs to match. */
const DISCOUNT_CONFIGURED_RAM_PERCENT = 5;
const MIB = 2 ** 20;
const PDH_SIZE = /^[0-9a-f]{32}\+(\d+)$/;

export const UNSATISFIABLE_MESSAGE = 'constraints not satisfiable by any configured instance type';
export const NOT_CONFIGURED_MESSAGE = 'site configuration does not list any instance types';

/**
 * Disk space a Docker image needs, estimated from the size suffix of its collection PDH
 * (`<md5>+<manifest size>`) as arv-keepdocker writes it: ((n-80)/42) blocks of 64 MiB.
 * 0 for a malformed PDH or a manifest shorter than 122 bytes.
 */
export function estimateDockerImageSize(pdh: string): number {
  const m = PDH_SIZE.exec(pdh);
  if (m === null) return 0;
  const n = Number(m[1]);
  // Go's ParseInt fails above int64; such sizes give 0 there too.
  if (!Number.isSafeInteger(n) || n < 122) return 0;
  return Math.trunc((n - 80) / 42) * 64 * MIB;
}

/** tmp mounts, raised to at least the image estimate, plus the image again, plus keep_cache_disk. */
export function estimateScratchSpace(ctr: Container): number {
  let need = 0;
  if (ctr.mounts !== undefined) {
    for (const name in ctr.mounts) {
      const m = ctr.mounts[name];
      if (m !== undefined && m.kind === 'tmp') need += m.capacity;
    }
  }
  const image = estimateDockerImageSize(ctr.containerImage);
  if (need < image) need = image;
  return need + image + ctr.runtimeConstraints.keepCacheDisk;
}

/**
 * Arvados' InstanceResourcesNeeded. RAM = ram + keep_cache_ram + ReserveExtraRAM, plus
 * (when LocalKeepBlobBuffersPerVCPU > 0) 220 MiB for keepstore and bufs x vcpus x 64 MiB x 1.1,
 * all inflated by 100/95 in integer arithmetic; VCPUs, GPUs and VRAM as requested.
 */
export function resourcesNeeded(cluster: ClusterConfig, ctr: Container): Resources {
  const rc = ctr.runtimeConstraints;
  let ram = rc.ram + rc.keepCacheRam + cluster.Containers.ReserveExtraRAM;
  const bufs = cluster.Containers.LocalKeepBlobBuffersPerVCPU;
  if (bufs > 0) {
    ram += 220 * MIB;
    ram += mulDiv(bufs * rc.vcpus * 64 * MIB, 11, 10);
  }
  ram = mulDiv(ram, 100, 100 - DISCOUNT_CONFIGURED_RAM_PERCENT);
  return {
    vcpus: rc.vcpus,
    ram,
    scratch: estimateScratchSpace(ctr),
    gpus: rc.gpu.deviceCount,
    gpuVram: rc.gpu.vram,
  };
}

/** The resources of an empty instance of type `t`. */
export function typeResources(t: InstanceType): Resources {
  return { vcpus: t.vcpus, ram: t.ram, scratch: t.scratch, gpus: t.gpu.deviceCount, gpuVram: t.gpu.vram };
}

/**
 * Arvados' Accommodates: can an instance with `have` remaining take a container needing
 * `need`? Every field must suffice, at least one VCPU must remain (0-VCPU containers still
 * need a share of one), and once 0-VCPU containers share a VCPU it is not available.
 */
export function accommodates(have: Resources, need: Resources): boolean {
  return (
    have.vcpus >= need.vcpus &&
    have.ram >= need.ram &&
    have.scratch >= need.scratch &&
    have.gpus >= need.gpus &&
    have.gpuVram >= need.gpuVram &&
    have.vcpus > 0 &&
    (have.sharedVcpuUsed !== true || have.vcpus > need.vcpus)
  );
}

/** Arvados' Sub: `have - need`; a 0-VCPU `need` marks the shared VCPU as used. */
export function subtract(have: Resources, need: Resources): Resources {
  return {
    vcpus: have.vcpus - need.vcpus,
    ram: have.ram - need.ram,
    scratch: have.scratch - need.scratch,
    gpus: have.gpus - need.gpus,
    gpuVram: have.gpuVram - need.gpuVram,
    sharedVcpuUsed: have.sharedVcpuUsed === true || need.vcpus === 0,
  };
}

/** `subtract` without allocating, for the scheduler's loops. */
export function subtractInPlace(have: MutableResources, need: Resources): void {
  have.vcpus -= need.vcpus;
  have.ram -= need.ram;
  have.scratch -= need.scratch;
  have.gpus -= need.gpus;
  have.gpuVram -= need.gpuVram;
  if (need.vcpus === 0) have.sharedVcpuUsed = true;
}

/** Arvados' preference order: price asc, then RAM desc, VCPUs desc, Scratch desc, Name asc. */
export function compareInstanceTypes(a: InstanceType, b: InstanceType): number {
  if (a.price !== b.price) return a.price < b.price ? -1 : 1;
  if (a.ram !== b.ram) return a.ram > b.ram ? -1 : 1;
  if (a.vcpus !== b.vcpus) return a.vcpus > b.vcpus ? -1 : 1;
  if (a.scratch !== b.scratch) return a.scratch > b.scratch ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const sortedCache = new WeakMap<object, readonly InstanceType[]>();

/** The configured types in preference order (memoized per InstanceTypes object). */
export function sortedInstanceTypes(types: Readonly<Record<string, InstanceType>>): readonly InstanceType[] {
  let sorted = sortedCache.get(types);
  if (sorted === undefined) {
    sorted = Object.freeze(Object.values(types).sort(compareInstanceTypes));
    sortedCache.set(types, sorted);
  }
  return sorted;
}

/**
 * Arvados' ChooseInstanceType: the types that can run `ctr`, cheapest first (ties: more
 * RAM, more VCPUs, more scratch, then name), truncated to those priced at most
 * cheapest x max(MaximumPriceFactor, 1).
 *
 * A type is rejected when its scratch, RAM or VCPUs are short of resourcesNeeded; its
 * Preemptible differs from scheduling_parameters.preemptible; its GPU stack differs from
 * the requested one; it has fewer GPUs or less VRAM per GPU; or, when GPUs are requested,
 * its driver version is lower (float compare, unparseable = rejected) or its hardware target
 * does not fit (cuda: one requested target = version >= it, several = exact match with one,
 * none = rejected; rocm: the type's target must be listed).
 *
 * Types are considered in preference order rather than Go's random map order; with all
 * prices > 0 the result is the same for any order (see docs/configuration.md for price 0).
 * @throws ConstraintsNotSatisfiableError "constraints not satisfiable by any configured
 *   instance type" with every configured type name by price; "Invalid GPU stack ..." for a
 *   stack other than '', cuda, rocm; "site configuration does not list any instance types".
 */
export function chooseInstanceType(cluster: ClusterConfig, ctr: Container): InstanceType[] {
  const all = sortedInstanceTypes(cluster.InstanceTypes);
  if (all.length === 0) throw new ConstraintsNotSatisfiableError(NOT_CONFIGURED_MESSAGE);
  const gpu = ctr.runtimeConstraints.gpu;
  if (gpu.stack !== '' && gpu.stack !== 'cuda' && gpu.stack !== 'rocm') {
    throw new ConstraintsNotSatisfiableError(`Invalid GPU stack ${JSON.stringify(gpu.stack)}, expected to be blank or one of 'cuda' or 'rocm'`);
  }
  const need = resourcesNeeded(cluster, ctr);
  const factor = Math.max(cluster.Containers.MaximumPriceFactor, 1);
  const preemptible = ctr.schedulingParameters.preemptible;
  const out: InstanceType[] = [];
  let maxPrice = 0;
  for (const it of all) {
    if (maxPrice > 0 && it.price > maxPrice) break; // sorted by price: the rest cost more
    if (it.scratch < need.scratch || it.ram < need.ram || it.vcpus < need.vcpus) continue;
    if (it.preemptible !== preemptible || it.gpu.stack !== gpu.stack) continue;
    if (it.gpu.deviceCount < gpu.deviceCount || it.gpu.vram < gpu.vram) continue;
    if (gpu.deviceCount > 0) {
      if (versionLess(it.gpu.driverVersion, gpu.driverVersion) !== false) continue;
      if (!hardwareTargetFits(gpu.stack, it.gpu.hardwareTarget, gpu.hardwareTarget)) continue;
    }
    out.push(it);
    const newMax = it.price * factor;
    if (newMax < maxPrice || maxPrice === 0) maxPrice = newMax;
  }
  if (out.length === 0) {
    throw new ConstraintsNotSatisfiableError(UNSATISFIABLE_MESSAGE, all.map((t) => t.name));
  }
  for (let i = 1; i < out.length; i++) {
    if ((out[i] as InstanceType).price > maxPrice) {
      out.length = i;
      break;
    }
  }
  return out;
}

function hardwareTargetFits(stack: string, have: string, wanted: readonly string[]): boolean {
  if (stack === 'cuda') {
    if (wanted.length > 1) return wanted.includes(have);
    if (wanted.length === 1) return versionLess(have, wanted[0] as string) === false;
    return false;
  }
  if (stack === 'rocm') return wanted.includes(have);
  return true; // no GPU stack requested: no capability to check
}

/** floor(a * b / c) for non-negative integers, exact beyond 2^53. */
function mulDiv(a: number, b: number, c: number): number {
  const p = a * b;
  if (p <= Number.MAX_SAFE_INTEGER) return Math.floor(p / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}
