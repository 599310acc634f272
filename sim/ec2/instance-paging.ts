import type { Instance } from '../../core/ports/instance-set.js';
import { Ec2ApiError, optString, type QueryTree } from './query-params.js';

/**
 * One page of `rows` (sorted by id) after NextToken. The token is the last id shown, so
 * instances coming and going between pages neither repeat nor shift the rest.
 */
export function paginate(rows: readonly Instance[], q: QueryTree, pageSize: number | undefined): { page: Instance[]; nextToken: string | undefined } {
  const token = optString(q, 'NextToken');
  const after = token === undefined ? undefined : decodeToken(token);
  const start = after === undefined ? 0 : rows.findIndex((i) => i.id > after);
  if (start < 0) return { page: [], nextToken: undefined };
  const end = pageSize === undefined ? rows.length : start + pageSize;
  const page = rows.slice(start, end);
  const last = page[page.length - 1];
  return { page, nextToken: end < rows.length && last !== undefined ? Buffer.from(last.id).toString('base64url') : undefined };
}

function decodeToken(token: string): string {
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (token === '' || Buffer.from(id).toString('base64url') !== token) {
    throw new Ec2ApiError('InvalidParameterValue', 'The value for NextToken is not valid');
  }
  return id;
}

/** EC2 filter values allow `*` and `?` wildcards. */
export function wildcard(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}
