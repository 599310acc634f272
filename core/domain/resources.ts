/**
 * Resources a container needs, or an instance has left. Sizes are bytes.
 * `sharedVcpuUsed` implements Arvados' rule that 0-VCPU containers share one fractional
 * VCPU (see resources arithmetic in node-size.ts).
 */
export interface Resources {
  readonly vcpus: number;
  readonly ram: number;
  readonly scratch: number;
  readonly gpus: number;
  /** Bytes of VRAM per GPU. */
  readonly gpuVram: number;
  readonly sharedVcpuUsed?: boolean;
}
