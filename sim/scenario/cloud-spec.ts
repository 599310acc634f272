import { cloudBehavior, EC2_DEFAULT_QUOTA_GROUPS, type CloudBehavior, type DurationSpec } from '../cloud/cloud-behavior.js';
import { readDist } from '../workload/distributions.js';
import { parseVcpuQuota } from './faults.js';
import {
  join,
  readDuration,
  readFraction,
  readList,
  readMap,
  readNumber,
  readOpenMap,
  readString,
  type Raw,
} from './fields.js';
import { ScenarioError } from './scenario-error.js';

const CLOUD_KEYS = [
  'bootTime',
  'createFailureRate',
  'destroyFailureRate',
  'brokenRate',
  'dieRatePerHour',
  'quota',
  'capacity',
  'rateLimit',
  'spot',
  'apiLatency',
  'shutdownTime',
  'quotaGroups',
] as const;

/** The `cloud:` section of a scenario (CONTRACTS.md section 2) as the simulated cloud's behaviour. */
export function parseCloud(raw: Raw, path = 'cloud'): CloudBehavior {
  if (raw === undefined || raw === null) return cloudBehavior();
  const m = readMap(raw, path, CLOUD_KEYS);
  const at = (k: string) => join(path, k);
  const partial: { -readonly [K in keyof CloudBehavior]?: CloudBehavior[K] } = {};
  if (m.bootTime !== undefined) partial.bootTime = durationSpec(m.bootTime, at('bootTime'));
  if (m.createFailureRate !== undefined) partial.createFailureRate = readFraction(m.createFailureRate, at('createFailureRate'));
  if (m.destroyFailureRate !== undefined) partial.destroyFailureRate = readFraction(m.destroyFailureRate, at('destroyFailureRate'));
  if (m.brokenRate !== undefined) partial.brokenRate = readFraction(m.brokenRate, at('brokenRate'));
  if (m.dieRatePerHour !== undefined) partial.dieRatePerHour = readNumber(m.dieRatePerHour, at('dieRatePerHour'), { min: 0 });
  if (m.quota !== undefined) {
    const q = readMap(m.quota, at('quota'), ['instances', 'vcpus']);
    partial.quota = {
      ...(q.instances !== undefined ? { instances: readNumber(q.instances, join(at('quota'), 'instances'), { min: 0, integer: true }) } : {}),
      ...(q.vcpus !== undefined ? { vcpus: parseVcpuQuota(q.vcpus, join(at('quota'), 'vcpus')) } : {}),
    };
  }
  if (m.capacity !== undefined) {
    partial.capacity = readList(m.capacity, at('capacity')).map((item, i) => {
      const p = join(at('capacity'), i);
      const c = readMap(item, p, ['types', 'from', 'to']);
      const types = c.types === undefined ? [] : readList(c.types, join(p, 'types')).map((t, j) => readString(t, join(join(p, 'types'), j)));
      const from = c.from === undefined ? 0 : readDuration(c.from, join(p, 'from'));
      const to = c.to === undefined ? Infinity : readDuration(c.to, join(p, 'to'));
      if (to <= from) throw new ScenarioError(join(p, 'to'), `expected a time after \`from\` (${String(c.from ?? '0s')}), got ${String(c.to)}`);
      return { types, from, to };
    });
  }
  if (m.rateLimit !== undefined && m.rateLimit !== null) {
    const r = readMap(m.rateLimit, at('rateLimit'), ['opsPerSecond', 'burst']);
    const opsPerSecond = readNumber(r.opsPerSecond, join(at('rateLimit'), 'opsPerSecond'), { min: Number.MIN_VALUE });
    partial.rateLimit = {
      opsPerSecond,
      ...(r.burst !== undefined ? { burst: readNumber(r.burst, join(at('rateLimit'), 'burst'), { min: 1 }) } : {}),
    };
  }
  if (m.spot !== undefined) {
    const s = readMap(m.spot, at('spot'), ['priceFactor', 'interruptionsPerHour', 'noticeSeconds']);
    const sp = at('spot');
    partial.spot = {
      interruptionsPerHour: s.interruptionsPerHour === undefined ? 0 : readNumber(s.interruptionsPerHour, join(sp, 'interruptionsPerHour'), { min: 0 }),
      noticeMs: s.noticeSeconds === undefined ? 120_000 : readNumber(s.noticeSeconds, join(sp, 'noticeSeconds'), { min: 0 }) * 1000,
      ...(s.priceFactor !== undefined ? { priceFactor: readNumber(s.priceFactor, join(sp, 'priceFactor'), { min: 0 }) } : {}),
    };
  }
  if (m.apiLatency !== undefined) partial.apiLatencyMs = readDuration(m.apiLatency, at('apiLatency'));
  if (m.shutdownTime !== undefined) partial.shutdownMs = readDuration(m.shutdownTime, at('shutdownTime'));
  if (m.quotaGroups !== undefined) {
    const g = readOpenMap(m.quotaGroups, at('quotaGroups'));
    const groups: Record<string, string> = { ...EC2_DEFAULT_QUOTA_GROUPS };
    for (const [prefix, group] of Object.entries(g)) groups[prefix.toLowerCase()] = readString(group, join(at('quotaGroups'), prefix));
    partial.quotaGroups = groups;
  }
  return cloudBehavior(partial);
}

function durationSpec(raw: Raw, path: string): DurationSpec {
  const d = readDist(raw, path);
  return d.kind === 'fixed' ? d.value : { median: d.median, p95: d.p95 };
}
