import type { Progress } from '../sim/runner/run-scenario.js';

/** "1d 3h", "2h 30m", "45m", "30s": simulated durations for people. */
export function humanDuration(seconds: number): string {
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/**
 * A one-line progress bar on a terminal's stderr (nothing when stderr is not a TTY, so
 * pipes and CI logs stay clean). The bar follows finished containers.
 */
export class ProgressBar {
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  update = (p: Progress): void => {
    if (!this.enabled) return;
    const width = 24;
    const frac = p.requests > 0 ? Math.min(1, p.finished / p.requests) : 1;
    const fill = Math.round(frac * width);
    const bar = `${'#'.repeat(fill)}${'.'.repeat(width - fill)}`;
    const line = `${this.label} [${bar}] ${humanDuration(p.simulatedSeconds)} simulated · ${p.finished}/${p.requests} containers done · ${p.instances} VMs`;
    this.out.write(`\r${line.slice(0, (this.out.columns ?? 120) - 1)}\x1b[K`);
    this.drawn = true;
  };

  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
