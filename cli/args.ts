import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from './errors.js';

/**
 * node:util's parseArgs, with a parse failure (an unknown option, a missing value) reported
 * as bad input: the parser's message, then the command's usage. Pass `strict: true`.
 * @throws InputError
 */
export function parseCommandArgs<const T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new InputError(`${e instanceof Error ? e.message : String(e)}\n${usage}`);
  }
}
