// The Metrics port over prom-client. Core code names metrics as the reference does without
// its namespace and subsystem (`instances_total`); this registry adds the prefix
// (`arvados_dispatchcloud_instances_total`), so /metrics carries the reference's names.
import { Counter as PromCounter, Gauge as PromGauge, Registry, Summary as PromSummary } from 'prom-client';
import type { Counter, Gauge, Labels, Metrics, Summary } from '../../core/ports/metrics.js';

/** The reference's namespace and subsystem: `arvados` + `dispatchcloud`. */
export const DISPATCHCLOUD_PREFIX = 'arvados_dispatchcloud_';

/** Quantiles of every summary, as the reference's summaries (§4.3 of the interface inventory). */
export const SUMMARY_QUANTILES = [0.5, 0.9, 0.95, 0.99] as const;

/** Prometheus' Go client's default summary window: quantiles over the last 10 minutes, in 5 buckets. */
const SUMMARY_MAX_AGE_SECONDS = 600;
const SUMMARY_AGE_BUCKETS = 5;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Kind = 'gauge' | 'counter' | 'summary';

interface Registered {
  readonly kind: Kind;
  readonly labelNames: readonly string[];
  readonly port: Gauge | Counter | Summary;
}

export interface PromMetricsOptions {
  /** Registry to add metrics to; default a new one. Several PromMetrics may share one. */
  readonly registry?: Registry;
  /** Prefix added to every name; default DISPATCHCLOUD_PREFIX. */
  readonly prefix?: string;
}

/**
 * Metrics registered in a prom-client Registry. Registering a name again with the same kind
 * and label names returns the same metric.
 * @throws Error on an invalid name or label name, or when a name is registered again with a
 *   different kind or label names (a bug: two parts of the code disagree about a metric)
 */
export class PromMetrics implements Metrics {
  readonly registry: Registry;
  private readonly prefix: string;
  private readonly byName = new Map<string, Registered>();

  constructor(opts: PromMetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    this.prefix = opts.prefix ?? DISPATCHCLOUD_PREFIX;
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.register('gauge', name, labelNames, () => {
      const g = new PromGauge({ name: this.prefix + name, help, labelNames: [...labelNames], registers: [this.registry] });
      return {
        set: (labels: Labels, value: number) => g.set(labels, value),
        reset: () => g.reset(),
      };
    }) as Gauge;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register('counter', name, labelNames, () => {
      const c = new PromCounter({ name: this.prefix + name, help, labelNames: [...labelNames], registers: [this.registry] });
      return { inc: (labels: Labels, by = 1) => c.inc(labels, by) };
    }) as Counter;
  }

  summary(name: string, help: string, labelNames: readonly string[] = []): Summary {
    return this.register('summary', name, labelNames, () => {
      const s = new PromSummary({
        name: this.prefix + name,
        help,
        labelNames: [...labelNames],
        percentiles: [...SUMMARY_QUANTILES],
        maxAgeSeconds: SUMMARY_MAX_AGE_SECONDS,
        ageBuckets: SUMMARY_AGE_BUCKETS,
        registers: [this.registry],
      });
      return { observe: (labels: Labels, value: number) => s.observe(labels, value) };
    }) as Summary;
  }

  private register(kind: Kind, name: string, labelNames: readonly string[], make: () => Gauge | Counter | Summary): Gauge | Counter | Summary {
    const full = this.prefix + name;
    const known = this.byName.get(full);
    if (known !== undefined) {
      if (known.kind !== kind || known.labelNames.join(',') !== labelNames.join(',')) {
        throw new Error(
          `registering metric ${full}: already registered as a ${known.kind} with labels [${known.labelNames.join(', ')}], ` +
            `now as a ${kind} with labels [${labelNames.join(', ')}]`,
        );
      }
      return known.port;
    }
    if (!METRIC_NAME.test(full)) throw new Error(`registering metric ${JSON.stringify(full)}: invalid metric name`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new Error(`registering metric ${full}: invalid label name ${JSON.stringify(l)}`);
    }
    const port = make();
    this.byName.set(full, { kind, labelNames: [...labelNames], port });
    return port;
  }
}
