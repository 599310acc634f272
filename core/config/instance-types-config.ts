// `Clusters.<id>.InstanceTypes`: parsed as Arvados' InstanceTypeMap.UnmarshalJSON,
// checkGPU-style validation and autofillPreemptible do it.
import type { GpuSpec, InstanceType } from '../domain/instance-type.js';
import { NO_GPU, sameHardware } from '../domain/instance-type.js';
import { ConfigError, describeFound } from './config-error.js';
import { ConfigReader, isPlainMap } from './config-reader.js';
import { parseGoFloat } from './go-float.js';

/**
 * Parses the InstanceTypes map. Fields absent from an entry are zero, as in Arvados (the
 * SAMPLE entry of Arvados' defaults file is documentation, not a default).
 * @throws ConfigError with the path when the value is an array (Arvados rejects the pre-1.2
 *   array form), when a field has the wrong type, or when a GPU type's DriverVersion is not
 *   a number X.Y.
 */
export function parseInstanceTypes(value: unknown, path: string, warnings: string[]): Record<string, InstanceType> {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) {
    throw new ConfigError(path, 'expected a map of instance types by name, got a list (InstanceTypes must be specified as a map, not an array)');
  }
  if (!isPlainMap(value)) throw new ConfigError(path, `expected a map of instance types by name, ${describeFound(value)}`);
  const out: Record<string, InstanceType> = {};
  for (const name of Object.keys(value)) {
    const t = parseInstanceType(name, value[name], `${path}.${name}`, warnings);
    out[name] = t;
  }
  return out;
}

function parseInstanceType(name: string, value: unknown, path: string, warnings: string[]): InstanceType {
  if (name === '') throw new ConfigError(path, 'expected a non-empty instance type name');
  const r = ConfigReader.at(value, path, warnings);
  const includedScratch = r.byteSize('IncludedScratch', 0);
  const addedScratch = r.byteSize('AddedScratch', 0);
  if (r.raw('Scratch') !== undefined) {
    warnings.push(
      `${r.keyPath('Scratch')}: ignored; Scratch is always IncludedScratch + AddedScratch (${includedScratch + addedScratch} bytes)`,
    );
  }
  if (r.raw('CUDA') !== undefined) {
    warnings.push(`${r.keyPath('CUDA')}: ignored; the CUDA section was removed in Arvados 3.3, use GPU (Stack: cuda)`);
  }
  const t: InstanceType = {
    name,
    providerType: r.string('ProviderType', '') || name,
    vcpus: r.int('VCPUs', 0, 0),
    ram: r.byteSize('RAM', 0),
    scratch: includedScratch + addedScratch,
    includedScratch,
    addedScratch,
    price: r.float('Price', 0, 0),
    preemptible: r.bool('Preemptible', false),
    gpu: parseGpu(r, name),
  };
  r.finish();
  if (t.vcpus === 0 || t.ram === 0) {
    warnings.push(`${path}: VCPUs and RAM should both be > 0 (an instance with 0 VCPUs can never run a container)`);
  }
  return t;
}

function parseGpu(parent: ConfigReader, name: string): GpuSpec {
  if (parent.raw('GPU') === undefined) return NO_GPU;
  const g = parent.section('GPU');
  const gpu: GpuSpec = {
    stack: g.string('Stack', ''),
    driverVersion: g.string('DriverVersion', ''),
    hardwareTarget: g.string('HardwareTarget', ''),
    deviceCount: g.int('DeviceCount', 0, 0),
    vram: g.byteSize('VRAM', 0),
  };
  g.finish();
  if (gpu.deviceCount > 0 && parseGoFloat(gpu.driverVersion) === undefined) {
    throw new ConfigError(
      g.keyPath('DriverVersion'),
      `InstanceType ${JSON.stringify(name)} has invalid GPU.DriverVersion ${JSON.stringify(gpu.driverVersion)}, expected format X.Y`,
    );
  }
  if (gpu.stack !== '' && gpu.stack !== 'cuda' && gpu.stack !== 'rocm') {
    parent.warnings.push(`${g.keyPath('Stack')}: ${JSON.stringify(gpu.stack)} is neither cuda nor rocm; no container can request it`);
  }
  return gpu;
}

/**
 * Arvados' autofillPreemptible: when `factor > 0`, adds `<name>.preemptible` for every
 * non-preemptible type, priced `price * factor`, unless a different type of that name is
 * already configured (then a warning). Returns a new map; configured entries keep their order.
 */
export function autofillPreemptible(
  types: Readonly<Record<string, InstanceType>>,
  factor: number,
  path: string,
  warnings: string[],
): Record<string, InstanceType> {
  const out: Record<string, InstanceType> = { ...types };
  if (!(factor > 0)) return out;
  for (const [name, it] of Object.entries(types)) {
    if (it.preemptible) continue;
    const variant: InstanceType = { ...it, name: `${name}.preemptible`, preemptible: true, price: it.price * factor };
    const existing = types[variant.name];
    if (existing !== undefined && !sameType(existing, variant)) {
      warnings.push(`${path}.${variant.name}: already exists, so not automatically adding a preemptible variant of ${name}`);
      continue;
    }
    out[variant.name] = variant;
  }
  return out;
}

function sameType(a: InstanceType, b: InstanceType): boolean {
  return (
    sameHardware(a, b) &&
    a.name === b.name &&
    a.includedScratch === b.includedScratch &&
    a.addedScratch === b.addedScratch &&
    a.price === b.price &&
    a.preemptible === b.preemptible
  );
}
