/**
 * EC2 Query API parameters (`Filter.1.Name=tag:a&Filter.1.Value.1=b`) as a tree, and the
 * accessors the actions read them with. Values from outside are strings; every accessor
 * validates and throws Ec2ApiError with EC2's code for a malformed parameter.
 */
export type QueryNode = string | QueryTree;
export interface QueryTree {
  [key: string]: QueryNode;
}

/** An error the endpoint answers with an EC2 error code and HTTP status. */
export class Ec2ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'Ec2ApiError';
  }
}

const MAX_DEPTH = 8;

/** Builds the tree from flat `A.1.B=v` pairs. Conflicting keys (`A=v` and `A.1=w`) are refused. */
export function parseQuery(params: URLSearchParams): QueryTree {
  const root: QueryTree = {};
  for (const [key, value] of params) {
    const parts = key.split('.');
    if (parts.length > MAX_DEPTH || parts.some((p) => p === '' || p === '__proto__')) {
      throw new Ec2ApiError('InvalidParameter', `The parameter ${JSON.stringify(key)} is not recognized`);
    }
    let node: QueryTree = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i] as string;
      const next = Object.hasOwn(node, p) ? node[p] : undefined;
      if (typeof next === 'string') throw new Ec2ApiError('InvalidParameter', `The parameter ${JSON.stringify(key)} conflicts with ${JSON.stringify(parts.slice(0, i + 1).join('.'))}`);
      if (next === undefined) {
        const child: QueryTree = {};
        node[p] = child;
        node = child;
      } else {
        node = next;
      }
    }
    const last = parts[parts.length - 1] as string;
    if (Object.hasOwn(node, last) && typeof node[last] !== 'string') {
      throw new Ec2ApiError('InvalidParameter', `The parameter ${JSON.stringify(key)} conflicts with its members`);
    }
    node[last] = value;
  }
  return root;
}

function child(t: QueryTree, name: string): QueryNode | undefined {
  return Object.hasOwn(t, name) ? t[name] : undefined;
}

export function optString(t: QueryTree, name: string): string | undefined {
  const v = child(t, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Ec2ApiError('InvalidParameterValue', `The parameter ${name} must be a single value`);
  return v;
}

export function reqString(t: QueryTree, name: string): string {
  const v = optString(t, name);
  if (v === undefined || v === '') throw new Ec2ApiError('MissingParameter', `The request must contain the parameter ${name}`);
  return v;
}

export function optInt(t: QueryTree, name: string, min: number, max: number): number | undefined {
  const s = optString(t, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!/^-?[0-9]+$/.test(s) || n < min || n > max) {
    throw new Ec2ApiError('InvalidParameterValue', `Value (${s}) for parameter ${name} is invalid. Expected an integer from ${min} to ${max}.`);
  }
  return n;
}

export function optBool(t: QueryTree, name: string): boolean | undefined {
  const s = optString(t, name);
  if (s === undefined) return undefined;
  if (s !== 'true' && s !== 'false') throw new Ec2ApiError('InvalidParameterValue', `Value (${s}) for parameter ${name} is invalid. Expected true or false.`);
  return s === 'true';
}

export function optTree(t: QueryTree, name: string): QueryTree | undefined {
  const v = child(t, name);
  if (v === undefined) return undefined;
  if (typeof v === 'string') throw new Ec2ApiError('InvalidParameterValue', `The parameter ${name} must be a structure`);
  return v;
}

/** Members of a list parameter (`Name.1`, `Name.2`, ...) in index order. */
export function listOf(t: QueryTree, name: string): QueryNode[] {
  const v = child(t, name);
  if (v === undefined) return [];
  if (typeof v === 'string') throw new Ec2ApiError('InvalidParameterValue', `The parameter ${name} must be a list (${name}.1, ${name}.2, ...)`);
  const keys = Object.keys(v);
  for (const k of keys) {
    if (!/^[1-9][0-9]{0,4}$/.test(k)) throw new Ec2ApiError('InvalidParameterValue', `The parameter ${name}.${k} is not a list member`);
  }
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => v[k] as QueryNode);
}

export function stringList(t: QueryTree, name: string): string[] {
  return listOf(t, name).map((v, i) => {
    if (typeof v !== 'string') throw new Ec2ApiError('InvalidParameterValue', `The parameter ${name}.${i + 1} must be a single value`);
    return v;
  });
}

export function treeList(t: QueryTree, name: string): QueryTree[] {
  return listOf(t, name).map((v, i) => {
    if (typeof v === 'string') throw new Ec2ApiError('InvalidParameterValue', `The parameter ${name}.${i + 1} must be a structure`);
    return v;
  });
}

export interface QueryFilter {
  readonly name: string;
  readonly values: readonly string[];
}

/** `Filter.N.Name` / `Filter.N.Value.M`. */
export function filters(t: QueryTree): QueryFilter[] {
  return treeList(t, 'Filter').map((f) => ({ name: reqString(f, 'Name'), values: stringList(f, 'Value') }));
}

/** `Tag.N.Key` / `Tag.N.Value` under `t`, validated as EC2 does. */
export function tagList(t: QueryTree, name = 'Tag'): [string, string][] {
  const tags = treeList(t, name).map((x): [string, string] => [reqString(x, 'Key'), optString(x, 'Value') ?? '']);
  if (tags.length > 50) throw new Ec2ApiError('TagLimitExceeded', 'The maximum number of tags for a resource is 50');
  for (const [k, v] of tags) {
    if (k.length > 128 || v.length > 256) throw new Ec2ApiError('InvalidParameterValue', `Tag ${JSON.stringify(k.slice(0, 40))} is too long (key 128, value 256 characters at most)`);
    // EC2 allows letters, digits, spaces and `_.:/=+-@` in any script; we refuse only what
    // XML 1.0 cannot carry back unchanged (control characters; CR becomes LF).
    if (hasControlCharacter(k + v)) {
      throw new Ec2ApiError('InvalidParameterValue', `Tag ${JSON.stringify(k.slice(0, 40))} contains a control character`);
    }
    if (k.toLowerCase().startsWith('aws:')) throw new Ec2ApiError('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
  }
  return tags;
}

/** Characters below U+0020 other than tab and LF, and the non-characters U+FFFE/U+FFFF. */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0xfffe || c === 0xffff) return true;
  }
  return false;
}
