/**
 * A scenario file is invalid at `path` (dotted, with list indices: `workload[1].runtime`).
 * The loader adds the file name; the CLI prints "FILE: PATH: MESSAGE" and exits 2.
 */
export class ScenarioError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(path === '' ? message : `${path}: ${message}`);
    this.name = 'ScenarioError';
  }
}
