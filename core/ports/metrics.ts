export type Labels = Readonly<Record<string, string>>;

export interface Gauge {
  set(labels: Labels, value: number): void;
  /** Drop every labelled series (for gauges recomputed from scratch each update). */
  reset(): void;
}
export interface Counter {
  inc(labels: Labels, by?: number): void;
}
export interface Summary {
  observe(labels: Labels, value: number): void;
}

/**
 * Metrics, named as the reference dispatcher names them (without the
 * `arvados_dispatchcloud_` prefix, which the production registry adds).
 * Registering the same name twice returns the same metric.
 */
export interface Metrics {
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  summary(name: string, help: string, labelNames?: readonly string[]): Summary;
}

const noopMetric: Gauge & Counter & Summary = {
  set() {},
  reset() {},
  inc() {},
  observe() {},
};

/** Metrics that go nowhere. */
export const nullMetrics: Metrics = {
  gauge: () => noopMetric,
  counter: () => noopMetric,
  summary: () => noopMetric,
};
