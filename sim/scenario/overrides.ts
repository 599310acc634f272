import { parse as parseYaml } from 'yaml';
import { ScenarioError } from './scenario-error.js';

/**
 * `--set PATH=VALUE`: replace one value of the raw scenario before validation. PATH is
 * dotted (`cluster.Containers.CloudVMs.MaxInstances`, `cloud.bootTime`); list elements
 * are `workload[0].count` or `workload.0.count`. VALUE is parsed as YAML, so `20`, `3m`,
 * `{median: 90s, p95: 4m}` and `[1, 2]` all work. Missing maps on the way are created.
 */
export function applyOverride(doc: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ScenarioError('', `--set ${JSON.stringify(assignment)}: expected PATH=VALUE`);
  const pathText = assignment.slice(0, eq).trim();
  const valueText = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYaml(valueText);
  } catch (e) {
    throw new ScenarioError(pathText, `--set: VALUE is not valid YAML: ${(e as Error).message}`);
  }
  const parts = splitPath(pathText);
  let cur: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    checkIndex(cur, key, parts.slice(0, i + 1));
    const container = cur as Record<string | number, unknown>;
    let next = container[key];
    if (next === undefined || next === null) {
      next = {};
      container[key] = next;
    }
    if (typeof next !== 'object') {
      throw new ScenarioError(parts.slice(0, i + 1).join('.'), `--set: cannot set a key inside a ${typeof next}`);
    }
    cur = next;
  }
  const last = parts[parts.length - 1]!;
  checkIndex(cur, last, parts);
  (cur as Record<string | number, unknown>)[last] = value;
}

function checkIndex(cur: unknown, key: string | number, parts: (string | number)[]): void {
  if (Array.isArray(cur) && (typeof key !== 'number' || key >= cur.length)) {
    throw new ScenarioError(parts.join('.'), `--set: no list element ${String(key)}`);
  }
}

function splitPath(text: string): (string | number)[] {
  if (text === '') throw new ScenarioError('', '--set: empty PATH');
  const parts: (string | number)[] = [];
  for (const seg of text.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(seg);
    if (m === null || (m[1] === '' && m[2] === '')) throw new ScenarioError(text, '--set: malformed PATH');
    if (m[1] !== '') parts.push(/^\d+$/.test(m[1]!) ? Number(m[1]) : m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) parts.push(Number(idx[1]));
  }
  return parts;
}
