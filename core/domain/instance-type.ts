/**
 * An instance type as configured in `Clusters.<id>.InstanceTypes.<name>`, with the
 * loader's computed fields filled in (`providerType` defaults to the name, `scratch` is
 * `includedScratch + addedScratch`). Sizes are bytes; `price` is per hour in the
 * config's currency.
 */
export interface InstanceType {
  readonly name: string;
  readonly providerType: string;
  readonly vcpus: number;
  readonly ram: number;
  readonly scratch: number;
  readonly includedScratch: number;
  readonly addedScratch: number;
  readonly price: number;
  readonly preemptible: boolean;
  readonly gpu: GpuSpec;
}

/** GPU hardware of an instance type. `stack === ''` and `deviceCount === 0` mean no GPU. */
export interface GpuSpec {
  readonly stack: string;
  readonly driverVersion: string;
  readonly hardwareTarget: string;
  readonly deviceCount: number;
  /** Bytes of VRAM per device. */
  readonly vram: number;
}

export const NO_GPU: GpuSpec = Object.freeze({
  stack: '',
  driverVersion: '',
  hardwareTarget: '',
  deviceCount: 0,
  vram: 0,
});

/** Whether two instance types have the same machine: provider type, VCPUs, RAM, scratch and GPUs (not name, price or market). */
export function sameHardware(a: InstanceType, b: InstanceType): boolean {
  return (
    a.providerType === b.providerType &&
    a.vcpus === b.vcpus &&
    a.ram === b.ram &&
    a.scratch === b.scratch &&
    a.gpu.stack === b.gpu.stack &&
    a.gpu.driverVersion === b.gpu.driverVersion &&
    a.gpu.hardwareTarget === b.gpu.hardwareTarget &&
    a.gpu.deviceCount === b.gpu.deviceCount &&
    a.gpu.vram === b.gpu.vram
  );
}

/**
 * An InstanceType as Arvados (Go) marshals it: field names as keys, `Name` and `Scratch`
 * left out (they are `json:"-"`). The management API and crunch-run's config both use it.
 */
export function instanceTypeToApi(t: InstanceType): Record<string, unknown> {
  return {
    ProviderType: t.providerType,
    VCPUs: t.vcpus,
    RAM: t.ram,
    IncludedScratch: t.includedScratch,
    AddedScratch: t.addedScratch,
    Price: t.price,
    Preemptible: t.preemptible,
    GPU: {
      Stack: t.gpu.stack,
      DriverVersion: t.gpu.driverVersion,
      HardwareTarget: t.gpu.hardwareTarget,
      DeviceCount: t.gpu.deviceCount,
      VRAM: t.gpu.vram,
    },
  };
}
