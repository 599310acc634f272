/**
 * A record from outside (a container from the controller's API, a CONTAINER.json file)
 * that does not have the expected shape. `path` is the dotted path inside the record
 * (`runtime_constraints.ram`, `items.3.priority`); `problem` says what was expected and
 * what was found; `message` is "<path>: <problem>".
 */
export class RecordError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path === '' ? problem : `${path}: ${problem}`);
    this.name = 'RecordError';
  }
}

/** A short rendering of a found value for error messages: `got "abc"`, `got a list`. */
export function describeFound(value: unknown): string {
  if (value === null || value === undefined) return 'got nothing';
  if (Array.isArray(value)) return 'got a list';
  if (typeof value === 'object') return 'got a map';
  if (typeof value === 'string') return `got ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (typeof value === 'bigint') return `got ${value.toString()}`;
  return `got ${String(value)}`;
}
