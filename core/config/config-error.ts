import { describeFound } from '../domain/record-error.js';

export { describeFound };

/**
 * An invalid configuration value. `path` is the dotted YAML path of the offending key
 * (`Clusters.zzzzz.Containers.CloudVMs.TimeoutIdle`); `problem` says what was expected and
 * what was found. `message` is "<path>: <problem>", ready to print after the file name.
 */
export class ConfigError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path === '' ? problem : `${path}: ${problem}`);
    this.name = 'ConfigError';
  }
}
