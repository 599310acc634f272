import type { Summary } from '../sim/runner/summary.js';

/** A summary for report tests: the figures that matter to comparisons, the rest plausible. */
export function fakeSummary(o: { policy?: string; seed?: number; cost: number; lowerBound?: number; p95: number; hours?: Record<string, number>; interrupted?: number; violations?: number }): Summary {
  const hours = o.hours ?? { small: o.cost * 5, large: o.cost };
  return {
    scenario: 'fixture',
    policy: o.policy ?? 'arvados',
    seed: o.seed ?? 1,
    transport: 'direct',
    simulatedSeconds: 7200,
    wallSeconds: 0.2,
    events: 1000,
    endReason: 'done',
    containers: { total: 20, complete: 20, cancelled: 0, failed: 0, unfinished: 0, lost: 0, doubleStarts: 0, maxLockCount: 1, retried: 0, skipped: 0 },
    wait: { mean: o.p95 / 3, p50: o.p95 / 4, p95: o.p95, max: o.p95 * 1.5 },
    cost: { total: o.cost, lowerBound: o.lowerBound ?? 1, idle: o.cost / 10, booting: o.cost / 20, byInstanceType: {} },
    instances: { created: 5, destroyed: 5, peak: 3, leakedAtEnd: 0, bootFailures: 0, interrupted: o.interrupted ?? 0, hoursByType: hours },
    expectations: [],
    invariantViolations: Array.from({ length: o.violations ?? 0 }, (_, i) => ({ invariant: 'no-vm-leaked', at: i, detail: 'fixture' })),
  };
}

/**
 * The figures of every chart drawn on the page: id, kind, per series its name and number of
 * points (bars, dots or line vertices) and of range lines. Runs in the page (a string, so
 * that the DOM types are not needed here).
 */
export const DRAWN_CHARTS = `[...document.querySelectorAll('figure.chart')].map((f) => ({
  id: f.getAttribute('data-chart'),
  kind: f.getAttribute('data-kind'),
  title: f.querySelector('figcaption').textContent,
  axisLabels: [...f.querySelectorAll('.axis-label')].map((t) => t.textContent),
  legend: [...f.querySelectorAll('.legend text')].map((t) => t.textContent),
  series: [...f.querySelectorAll('.series')].map((s) => ({
    name: s.getAttribute('data-series'),
    points: s.hasAttribute('data-points') && s.querySelectorAll('.point').length === 0 ? Number(s.getAttribute('data-points')) : s.querySelectorAll('.point').length,
    ranges: s.querySelectorAll('.range').length,
    joined: s.tagName === 'path' || s.querySelector('path') !== null,
  })),
}))`;

export interface DrawnChart {
  readonly id: string;
  readonly kind: string;
  readonly title: string;
  readonly axisLabels: string[];
  readonly legend: string[];
  readonly series: { name: string; points: number; ranges: number; joined: boolean }[];
}
