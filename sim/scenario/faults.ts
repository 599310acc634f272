import { ScenarioError } from './scenario-error.js';
import { join, readDuration, readList, readMap, readNumber, readOpenMap, readString, type Raw } from './fields.js';

/** A fault injected at a simulated time (ms from the start). */
export type Fault =
  | { readonly kind: 'controller-unavailable'; readonly at: number; readonly for: number }
  | { readonly kind: 'cloud-api-outage'; readonly at: number; readonly for: number }
  | { readonly kind: 'dispatcher-restart'; readonly at: number }
  | { readonly kind: 'kill-instances'; readonly at: number; readonly count: number }
  | {
      readonly kind: 'quota';
      readonly at: number;
      readonly instances?: number;
      readonly vcpus?: Readonly<Record<string, number>>;
    }
  | { readonly kind: 'ssh-partition'; readonly at: number; readonly count: number; readonly for: number };

export const FAULT_KINDS = [
  'controller-unavailable',
  'cloud-api-outage',
  'dispatcher-restart',
  'kill-instances',
  'quota',
  'ssh-partition',
] as const;

export function parseFaults(raw: Raw, path: string): Fault[] {
  if (raw === undefined || raw === null) return [];
  return readList(raw, path).map((item, i) => parseFault(item, join(path, i)));
}

function parseFault(raw: Raw, path: string): Fault {
  const kindRaw = readMap(raw, path, ['at', 'kind', 'for', 'count', 'instances', 'vcpus']).kind;
  const kind = readString(kindRaw, join(path, 'kind'));
  const at = (m: Record<string, Raw>) => readDuration(required(m, 'at', path), join(path, 'at'));
  const dur = (m: Record<string, Raw>) => readDuration(required(m, 'for', path), join(path, 'for'));
  const count = (m: Record<string, Raw>) =>
    readNumber(required(m, 'count', path), join(path, 'count'), { min: 1, integer: true });
  switch (kind) {
    case 'controller-unavailable':
    case 'cloud-api-outage': {
      const m = readMap(raw, path, ['at', 'kind', 'for']);
      return { kind, at: at(m), for: dur(m) };
    }
    case 'dispatcher-restart': {
      const m = readMap(raw, path, ['at', 'kind']);
      return { kind, at: at(m) };
    }
    case 'kill-instances': {
      const m = readMap(raw, path, ['at', 'kind', 'count']);
      return { kind, at: at(m), count: count(m) };
    }
    case 'ssh-partition': {
      const m = readMap(raw, path, ['at', 'kind', 'count', 'for']);
      return { kind, at: at(m), count: count(m), for: dur(m) };
    }
    case 'quota': {
      const m = readMap(raw, path, ['at', 'kind', 'instances', 'vcpus']);
      if (m.instances === undefined && m.vcpus === undefined) {
        throw new ScenarioError(path, 'expected `instances: N` or `vcpus: {GROUP: N}`');
      }
      return {
        kind,
        at: at(m),
        ...(m.instances !== undefined
          ? { instances: readNumber(m.instances, join(path, 'instances'), { min: 0, integer: true }) }
          : {}),
        ...(m.vcpus !== undefined ? { vcpus: parseVcpuQuota(m.vcpus, join(path, 'vcpus')) } : {}),
      };
    }
    default:
      throw new ScenarioError(join(path, 'kind'), `expected one of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
}

export function parseVcpuQuota(raw: Raw, path: string): Record<string, number> {
  const m = readOpenMap(raw, path);
  const out: Record<string, number> = {};
  for (const [group, n] of Object.entries(m)) {
    out[group] = readNumber(n, join(path, group), { min: 0, integer: true });
  }
  return out;
}

function required(m: Record<string, Raw>, key: string, path: string): Raw {
  const v = m[key];
  if (v === undefined) throw new ScenarioError(join(path, key), 'required');
  return v;
}
