import { parse as parseYaml } from 'yaml';
import { ScenarioError } from './scenario-error.js';

/**
 * `--set PATH=VALUE`: replace one value of the raw scenario before validation. PATH is
 * dotted (`cluster.Containers.CloudVMs.MaxInstances`, `cloud.bootTime`); list elements
 * are `workload[0].count` or `workload.0.count`; a key with dots is quoted,
 * `cluster.InstanceTypes["m5.large"].Price`. VALUE is parsed as YAML, so `20`, `3m`,
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
    let next = Object.hasOwn(container, key) ? container[key] : undefined;
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

/**
 * PATH's keys and list indexes. A key is a dotted name, a list index `[N]` or `.N`, and a key
 * holding dots or brackets (an instance type like `m5.large`) is quoted in brackets:
 * `cluster.InstanceTypes["m5.large"].Price` (JSON string) or `['m5.large']` (no escapes).
 */
function splitPath(text: string): (string | number)[] {
  if (text === '') throw new ScenarioError('', '--set: empty PATH');
  const bad = (why: string): never => {
    throw new ScenarioError(text, `--set: malformed PATH (${why}); quote a key holding dots as ["a.b"]`);
  };
  const parts: (string | number)[] = [];
  let i = 0;
  let needKey = true;
  while (i < text.length) {
    const c = text[i];
    if (c === '[') {
      const close = text[i + 1] === '"' ? closingDoubleQuote(text, i + 2) : text[i + 1] === "'" ? text.indexOf("'", i + 2) : text.indexOf(']', i);
      if (close < 0) bad('unclosed [');
      if (text[i + 1] === '"' || text[i + 1] === "'") {
        if (text[close + 1] !== ']') bad('expected ] after a quoted key');
        const raw = text.slice(i + 1, close + 1);
        parts.push(text[i + 1] === '"' ? (JSON.parse(raw) as string) : raw.slice(1, -1));
        i = close + 2;
      } else {
        const idx = text.slice(i + 1, close);
        if (!/^\d+$/.test(idx)) bad(`[${idx}] is not a list index`);
        parts.push(Number(idx));
        i = close + 1;
      }
      needKey = false;
    } else if (c === '.') {
      if (needKey) bad('empty key');
      needKey = true;
      i++;
    } else {
      if (!needKey) bad(`expected . or [ before ${JSON.stringify(text.slice(i, i + 10))}`);
      let end = i;
      while (end < text.length && !'.[]'.includes(text[end]!)) end++;
      if (end === i) bad(`unexpected ${JSON.stringify(c)}`);
      const name = text.slice(i, end);
      parts.push(/^\d+$/.test(name) ? Number(name) : name);
      needKey = false;
      i = end;
    }
  }
  if (needKey) bad('empty key');
  for (const p of parts) {
    // `__proto__` would reach Object.prototype instead of a key of the file.
    if (p === '__proto__') throw new ScenarioError(text, '--set: __proto__ is not a scenario key');
  }
  return parts;
}

/** Index of the `"` closing a JSON string whose body starts at `from`, or -1. */
function closingDoubleQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
