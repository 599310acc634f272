import { countSkip, lines, TraceFormatError, type SkipCounts } from './trace-error.js';

/**
 * Container (pod) traces as CSV with a header row naming at least the columns
 * `name,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time,deletion_time,scheduled_time`
 * in any order (the Alibaba cluster-trace-gpu-v2023 pod lists have these plus others,
 * which are ignored). Times are seconds. Fields may be double-quoted ("" escapes a quote).
 */

export const CLUSTER_CSV_COLUMNS = [
  'name',
  'cpu_milli',
  'memory_mib',
  'num_gpu',
  'gpu_milli',
  'creation_time',
  'deletion_time',
  'scheduled_time',
] as const;
type Column = (typeof CLUSTER_CSV_COLUMNS)[number];

export interface ClusterCsvRow {
  readonly line: number;
  readonly name: string;
  readonly cpuMilli: number;
  readonly memoryMiB: number;
  readonly numGpu: number;
  /** Share of each GPU in thousandths; not modelled (Arvados has no fractional GPUs). */
  readonly gpuMilli: number;
  readonly creationTime: number;
  /** null when empty (the pod never finished or never started in the trace). */
  readonly deletionTime: number | null;
  readonly scheduledTime: number | null;
}

/**
 * Reads data rows, at most `limit` of them (blank lines do not count).
 * @throws TraceFormatError with the line number for a missing header column, a row with the
 * wrong number of fields, or a value that is not a number where one is needed.
 */
export function parseClusterCsv(text: string, limit = Infinity): ClusterCsvRow[] {
  const rows: ClusterCsvRow[] = [];
  let index: Record<Column, number> | null = null;
  let width = 0;
  for (const { line, text: raw } of lines(text)) {
    if (raw.trim() === '') continue;
    const fields = splitCsvLine(raw, line);
    if (index === null) {
      const header = fields.map((f) => f.trim());
      const missing = CLUSTER_CSV_COLUMNS.filter((c) => !header.includes(c));
      if (missing.length > 0) {
        throw new TraceFormatError(line, `header lacks column(s) ${missing.join(', ')} (expected ${CLUSTER_CSV_COLUMNS.join(',')})`);
      }
      index = Object.fromEntries(CLUSTER_CSV_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<Column, number>;
      width = header.length;
      continue;
    }
    if (rows.length >= limit) break;
    if (fields.length !== width) throw new TraceFormatError(line, `expected ${width} fields as in the header, got ${fields.length}`);
    const idx = index;
    const get = (c: Column) => fields[idx[c]]!.trim();
    const num = (c: Column): number => {
      const s = get(c);
      const v = Number(s);
      if (s === '' || !Number.isFinite(v) || v < 0) throw new TraceFormatError(line, `${c} must be a number >= 0, got ${JSON.stringify(s)}`);
      return v;
    };
    const optional = (c: Column): number | null => (get(c) === '' ? null : num(c));
    rows.push({
      line,
      name: get('name'),
      cpuMilli: num('cpu_milli'),
      memoryMiB: num('memory_mib'),
      numGpu: num('num_gpu'),
      gpuMilli: optional('gpu_milli') ?? 0,
      creationTime: num('creation_time'),
      deletionTime: optional('deletion_time'),
      scheduledTime: optional('scheduled_time'),
    });
  }
  if (index === null) throw new TraceFormatError(1, `empty file: expected a header row ${CLUSTER_CSV_COLUMNS.join(',')}`);
  return rows;
}

function splitCsvLine(s: string, line: number): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (s[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q === -1) throw new TraceFormatError(line, 'unterminated quoted field');
        v += s.slice(i, q);
        if (s[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
      if (i < s.length && s[i] !== ',') throw new TraceFormatError(line, 'text after a closing quote');
    } else {
      const c = s.indexOf(',', i);
      out.push(c === -1 ? s.slice(i) : s.slice(i, c));
      i = c === -1 ? s.length : c;
    }
    if (i >= s.length) return out;
    i++; // the comma
  }
}

export const CSV_SKIP_NOT_SCHEDULED = 'never scheduled';
export const CSV_SKIP_NOT_DELETED = 'no deletion time';
export const CSV_SKIP_NEGATIVE_RUNTIME = 'deleted before scheduled';

/** A row as a container request's resources; times ms, RAM bytes. */
export interface ClusterCsvRequest {
  readonly row: ClusterCsvRow;
  /** From the earliest creation time among the rows given. */
  readonly submitMs: number;
  readonly runtimeMs: number;
  readonly vcpus: number;
  readonly ram: number;
  /** 0 = no GPU. */
  readonly gpus: number;
}

/**
 * VCPUs = ceil(cpu_milli / 1000), at least 1, capped at maxVCPUs; RAM = memory_mib MiB, at
 * least 1 MiB; runtime = deletion - scheduled; GPUs = num_gpu (rounded up). Rows without a
 * scheduled or deletion time, or deleted before scheduled, are skipped and counted.
 */
export function mapClusterCsvRows(rows: readonly ClusterCsvRow[], maxVCPUs: number): { requests: ClusterCsvRequest[]; skipped: SkipCounts } {
  const skipped: SkipCounts = {};
  let base = Infinity;
  for (const r of rows) base = Math.min(base, r.creationTime);
  const requests: ClusterCsvRequest[] = [];
  for (const r of rows) {
    if (r.scheduledTime === null) {
      countSkip(skipped, CSV_SKIP_NOT_SCHEDULED);
      continue;
    }
    if (r.deletionTime === null) {
      countSkip(skipped, CSV_SKIP_NOT_DELETED);
      continue;
    }
    if (r.deletionTime < r.scheduledTime) {
      countSkip(skipped, CSV_SKIP_NEGATIVE_RUNTIME);
      continue;
    }
    requests.push({
      row: r,
      submitMs: Math.round((r.creationTime - base) * 1000),
      runtimeMs: Math.round((r.deletionTime - r.scheduledTime) * 1000),
      vcpus: Math.min(Math.max(1, Math.ceil(r.cpuMilli / 1000)), maxVCPUs),
      ram: Math.round(Math.max(1, r.memoryMiB) * 1024 * 1024),
      gpus: Math.ceil(r.numGpu),
    });
  }
  return { requests, skipped };
}
