// `vmdispatch policies`: one line per mapper policy, "NAME<TAB>description", default first.
import { DEFAULT_POLICY, policies } from '../core/scheduler/policies.js';
import { InputError } from './errors.js';
import type { Command } from './main.js';

/** The lines `vmdispatch policies` prints. */
export function policyLines(): string[] {
  return policies.map((p) => `${p.name}\t${p.description}${p.name === DEFAULT_POLICY ? ' (default)' : ''}`);
}

export const command: Command = {
  run(argv) {
    if (argv.length > 0) {
      return Promise.reject(new InputError(`unexpected argument ${JSON.stringify(argv[0])}: usage: vmdispatch policies`));
    }
    for (const line of policyLines()) console.log(line);
    return Promise.resolve(0);
  },
};
