import type { ContainerState } from '../../core/domain/container.js';
import { ControllerError } from '../../core/ports/errors.js';
import type { Filter, FilterValue } from '../../core/ports/controller.js';

/** The fields of a stored container that filters and orders can use. */
export interface QueryableRecord {
  readonly uuid: string;
  readonly state: ContainerState;
  readonly priority: bigint;
  readonly lockedByUuid: string | null;
  readonly createdAt: number;
  readonly lockCount: number;
  /** Creation order; equals uuid order because uuids come from a fixed-width counter. */
  readonly seq: number;
}

type Predicate = (r: QueryableRecord) => boolean;
type Cmp = (a: QueryableRecord, b: QueryableRecord) => number;

/** How results come out of an order list, so the planner can skip sorting. */
export type OrderKind = 'seq' | 'priority-desc' | 'other';

export interface CompiledOrder {
  readonly compare: Cmp;
  readonly kind: OrderKind;
}

/** Arvados' API answers a malformed query with 422; so does the stub. */
function invalid(what: string): ControllerError {
  return new ControllerError(`listing containers: ${what}`, 422);
}

export function describeValue(v: FilterValue): string {
  if (Array.isArray(v)) return `[${v.map((x) => describeValue(x as FilterValue)).join(',')}]`;
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

/** The filter as error messages name it; a function because only errors need it. */
type Where = () => string;

function toBigint(v: unknown, where: Where): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return BigInt(v);
  throw invalid(`${where()}: expected an integer, got ${describeValue(v as FilterValue)}`);
}

function toStr(v: unknown, where: Where): string {
  if (typeof v === 'string') return v;
  throw invalid(`${where()}: expected a string, got ${describeValue(v as FilterValue)}`);
}

function cmpOp<T>(op: Filter[1], cmp: (a: T, b: T) => number, want: T): (x: T) => boolean {
  switch (op) {
    case '=':
      return (x) => cmp(x, want) === 0;
    case '!=':
      return (x) => cmp(x, want) !== 0;
    case '<':
      return (x) => cmp(x, want) < 0;
    case '<=':
      return (x) => cmp(x, want) <= 0;
    case '>':
      return (x) => cmp(x, want) > 0;
    case '>=':
      return (x) => cmp(x, want) >= 0;
    default:
      throw invalid(`operator ${op} needs a list`);
  }
}

const strCmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const bigCmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
const numCmp = (a: number, b: number): number => a - b;

const OPS = new Set(['=', '!=', '>', '<', '>=', '<=', 'in']);

function compileOne(f: Filter): Predicate {
  if (!Array.isArray(f) || f.length !== 3) throw invalid(`filter ${JSON.stringify(f)}: expected [field, operator, value]`);
  const [field, op, value] = f;
  const where: Where = () => `filter ${field} ${op} ${describeValue(value)}`;
  if (!OPS.has(op)) throw invalid(`${where()}: unsupported operator`);
  switch (field) {
    case 'uuid':
    case 'state':
    case 'locked_by_uuid': {
      const get: (r: QueryableRecord) => string | null =
        field === 'uuid' ? (r) => r.uuid : field === 'state' ? (r) => r.state : (r) => r.lockedByUuid;
      if (op === 'in') {
        if (!Array.isArray(value)) throw invalid(`${where()}: 'in' needs a list`);
        const set = new Set(value.map((v) => toStr(v, where)));
        return (r) => {
          const x = get(r);
          return x !== null && set.has(x);
        };
      }
      if (value === null) {
        if (op === '=') return (r) => get(r) === null;
        if (op === '!=') return (r) => get(r) !== null;
        throw invalid(`${where()}: null only compares with = and !=`);
      }
      const test = cmpOp(op, strCmp, toStr(value, where));
      return (r) => {
        const x = get(r);
        return x !== null && test(x);
      };
    }
    case 'priority': {
      if (op === 'in') {
        if (!Array.isArray(value)) throw invalid(`${where()}: 'in' needs a list`);
        const set = new Set(value.map((v) => toBigint(v, where)));
        return (r) => set.has(r.priority);
      }
      const test = cmpOp(op, bigCmp, toBigint(value, where));
      return (r) => test(r.priority);
    }
    case 'lock_count': {
      if (op === 'in') {
        if (!Array.isArray(value)) throw invalid(`${where()}: 'in' needs a list`);
        const set = new Set(value.map((v) => Number(toBigint(v, where))));
        return (r) => set.has(r.lockCount);
      }
      const test = cmpOp(op, numCmp, Number(toBigint(value, where)));
      return (r) => test(r.lockCount);
    }
    default:
      throw invalid(`${where()}: the stub controller cannot filter on ${field}`);
  }
}

export function compileFilters(filters: readonly Filter[]): Predicate {
  const preds = filters.map(compileOne);
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0]!;
  return (r) => preds.every((p) => p(r));
}

const ORDER_FIELDS: Readonly<Record<string, Cmp>> = {
  uuid: (a, b) => a.seq - b.seq,
  created_at: (a, b) => a.createdAt - b.createdAt,
  priority: (a, b) => bigCmp(a.priority, b.priority),
  state: (a, b) => strCmp(a.state, b.state),
  lock_count: (a, b) => a.lockCount - b.lockCount,
};

/**
 * Parses `['priority desc', 'uuid']`-style orders. Ties are broken by uuid so that paging
 * is deterministic (PostgreSQL would leave them in an unspecified order).
 */
export function compileOrder(order: readonly string[] | undefined): CompiledOrder {
  // The dispatcher polls with the same two orders millions of times: compile each once.
  const key = order === undefined || order.length === 0 ? '' : order.length === 1 ? `1${order[0]!}` : JSON.stringify(order);
  let compiled = orders.get(key);
  if (compiled === undefined) {
    compiled = compileOrderUncached(order);
    if (orders.size >= ORDER_CACHE_MAX) orders.clear();
    orders.set(key, compiled);
  }
  return compiled;
}

const orders = new Map<string, CompiledOrder>();
const ORDER_CACHE_MAX = 256;

function compileOrderUncached(order: readonly string[] | undefined): CompiledOrder {
  const parts: Cmp[] = [];
  const names: string[] = [];
  for (const o of order ?? []) {
    const m = /^\s*(?:containers\.)?([a-z_]+)(?:\s+(asc|desc))?\s*$/i.exec(o);
    const field = m?.[1]?.toLowerCase();
    const base = field === undefined ? undefined : ORDER_FIELDS[field];
    if (m === null || field === undefined || base === undefined) throw invalid(`order ${JSON.stringify(o)}: unsupported`);
    const desc = m[2]?.toLowerCase() === 'desc';
    parts.push(desc ? (a, b) => base(b, a) : base);
    names.push(`${field} ${desc ? 'desc' : 'asc'}`);
  }
  parts.push(ORDER_FIELDS.uuid!);
  // created_at never decreases with creation order, and uuid order is creation order.
  const first = names[0];
  const kind: OrderKind =
    first === undefined || first === 'uuid asc' || (first === 'created_at asc' && (names[1] ?? 'uuid asc') === 'uuid asc')
      ? 'seq'
      : first === 'priority desc' && (names[1] === undefined || names[1] === 'uuid asc')
        ? 'priority-desc'
        : 'other';
  const compare: Cmp = (a, b) => {
    for (const p of parts) {
      const c = p(a, b);
      if (c !== 0) return c;
    }
    return 0;
  };
  return { compare, kind };
}
