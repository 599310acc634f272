import { ScenarioError } from './scenario-error.js';

export type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=';
type Operand = { readonly path: string } | { readonly value: number };

/** `PATH OP NUMBER` (or `PATH OP PATH`) over summary.json, e.g. `wait.p95 <= 900`. */
export interface Expectation {
  readonly text: string;
  readonly left: string;
  readonly op: Operator;
  readonly right: Operand;
}

export interface ExpectationResult {
  readonly text: string;
  readonly ok: boolean;
  /** The left-hand value (null when the path names nothing numeric). */
  readonly value: number | null;
}

const PATTERN = /^\s*([A-Za-z_][\w.]*)\s*(==|!=|<=|>=|<|>)\s*(\S+)\s*$/;
const PATH = /^[A-Za-z_][\w.]*$/;

export function parseExpectation(text: unknown, path: string): Expectation {
  if (typeof text !== 'string') throw new ScenarioError(path, 'expected a string like "wait.p95 <= 900"');
  const m = PATTERN.exec(text);
  if (m === null) {
    throw new ScenarioError(path, `expected "PATH OP NUMBER" with OP one of == != < <= > >=, got ${JSON.stringify(text)}`);
  }
  const [, left, op, rightText] = m as unknown as [string, string, Operator, string];
  let right: Operand;
  const n = Number(rightText);
  if (rightText !== '' && Number.isFinite(n)) right = { value: n };
  else if (PATH.test(rightText)) right = { path: rightText };
  else throw new ScenarioError(path, `expected a number or a summary path after ${op}, got ${JSON.stringify(rightText)}`);
  return { text: text.trim(), left, op, right };
}

/** Look up a dotted path in a JSON-like value; null unless it names a finite number. */
export function lookupNumber(doc: unknown, path: string): number | null {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return null;
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

export function evaluate(e: Expectation, summary: unknown): ExpectationResult {
  const l = lookupNumber(summary, e.left);
  const r = 'value' in e.right ? e.right.value : lookupNumber(summary, e.right.path);
  if (l === null || r === null) return { text: e.text, ok: false, value: l };
  return { text: e.text, ok: compare(l, e.op, r), value: l };
}

function compare(l: number, op: Operator, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
  }
}
