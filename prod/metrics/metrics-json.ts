// `/metrics.json`: the registry as the reference's service wrapper writes it, a JSON array of
// Prometheus MetricFamily messages in protobuf-JSON form (jsonpb with a two-space indent):
// enum types in upper case, 64-bit counts as strings, labels as {name, value} pairs sorted
// by name, families sorted by name and series by label values, as Go's Gather() returns them.
import type { Registry } from 'prom-client';

interface PromValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
}
interface PromFamily {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly values: readonly PromValue[];
}

interface LabelPair {
  name: string;
  value: string;
}
interface JsonMetric {
  label?: LabelPair[];
  gauge?: { value: number | string };
  counter?: { value: number | string };
  untyped?: { value: number | string };
  summary?: { sampleCount: string; sampleSum: number | string; quantile: { quantile: number; value: number | string }[] };
  histogram?: { sampleCount: string; sampleSum: number | string; bucket: { cumulativeCount: string; upperBound: number | string }[] };
}
export interface JsonMetricFamily {
  name: string;
  help: string;
  type: string;
  metric: JsonMetric[];
}

/** jsonpb writes non-finite doubles as strings. */
function dbl(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

function labelPairs(labels: Readonly<Record<string, string | number>>, drop: string): LabelPair[] {
  return Object.keys(labels)
    .filter((k) => k !== drop)
    .sort()
    .map((name) => ({ name, value: String(labels[name]) }));
}

function seriesKey(pairs: readonly LabelPair[]): string {
  return JSON.stringify(pairs.map((p) => p.value));
}

function convert(f: PromFamily): JsonMetricFamily {
  const bySeries = new Map<string, JsonMetric>();
  const get = (pairs: LabelPair[]): JsonMetric => {
    const key = seriesKey(pairs);
    let m = bySeries.get(key);
    if (m === undefined) {
      m = pairs.length > 0 ? { label: pairs } : {};
      bySeries.set(key, m);
    }
    return m;
  };
  for (const v of f.values) {
    switch (f.type) {
      case 'gauge':
        get(labelPairs(v.labels, '')).gauge = { value: dbl(v.value) };
        break;
      case 'counter':
        get(labelPairs(v.labels, '')).counter = { value: dbl(v.value) };
        break;
      case 'summary': {
        const m = get(labelPairs(v.labels, 'quantile'));
        m.summary ??= { sampleCount: '0', sampleSum: 0, quantile: [] };
        if (v.metricName?.endsWith('_sum') === true) m.summary.sampleSum = dbl(v.value);
        else if (v.metricName?.endsWith('_count') === true) m.summary.sampleCount = String(v.value);
        else m.summary.quantile.push({ quantile: Number(v.labels['quantile']), value: dbl(v.value) });
        break;
      }
      case 'histogram': {
        const m = get(labelPairs(v.labels, 'le'));
        m.histogram ??= { sampleCount: '0', sampleSum: 0, bucket: [] };
        if (v.metricName?.endsWith('_sum') === true) m.histogram.sampleSum = dbl(v.value);
        else if (v.metricName?.endsWith('_count') === true) m.histogram.sampleCount = String(v.value);
        else if (v.labels['le'] !== '+Inf') m.histogram.bucket.push({ cumulativeCount: String(v.value), upperBound: dbl(Number(v.labels['le'])) });
        break;
      }
      default:
        get(labelPairs(v.labels, '')).untyped = { value: dbl(v.value) };
    }
  }
  const metric = [...bySeries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, m]) => m);
  return { name: f.name, help: f.help, type: f.type.toUpperCase(), metric };
}

/** The registry's metric families in protobuf-JSON form, sorted by name. */
export async function metricsAsProtoJson(registry: Registry): Promise<JsonMetricFamily[]> {
  const families = (await registry.getMetricsAsJSON()) as unknown as PromFamily[];
  return families
    .map(convert)
    .filter((f) => f.metric.length > 0)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The body of `/metrics.json`, formatted as the reference formats it. */
export async function metricsJsonText(registry: Registry): Promise<string> {
  const families = await metricsAsProtoJson(registry);
  return `[${families.map((f) => JSON.stringify(f, null, 2)).join(',')}]`;
}
