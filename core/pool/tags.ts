import type { Rng } from '../ports/rng.js';
import { IDLE_BEHAVIORS, type IdleBehavior } from './pool-api.js';

/** Tag names under `CloudVMs.TagKeyPrefix`, as Arvados writes them (so Go and TS adopt each other's VMs). */
export interface TagKeys {
  readonly instanceSetId: string;
  readonly instanceType: string;
  readonly idleBehavior: string;
  readonly instanceSecret: string;
}

export function tagKeys(prefix: string): TagKeys {
  return {
    instanceSetId: `${prefix}InstanceSetID`,
    instanceType: `${prefix}InstanceType`,
    idleBehavior: `${prefix}IdleBehavior`,
    instanceSecret: `${prefix}InstanceSecret`,
  };
}

export const SECRET_PATH = '/var/run/arvados-instance-secret';
const SECRET_PATTERN = /^[0-9a-f]{40}$/;

/** A fresh 40-hex instance secret (Arvados: 20 random bytes). */
export function newInstanceSecret(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 40; i++) s += rng.int(0, 15).toString(16);
  return s;
}

export function isInstanceSecret(s: string): boolean {
  return SECRET_PATTERN.test(s);
}

/**
 * The first-boot script: write the secret (mode 0600 via umask), then the operator's
 * InstanceInitCommand. The secret is hex, so Go's %q quoting is plain double quotes.
 */
export function initCommand(secret: string, instanceInitCommand: string): string {
  if (!isInstanceSecret(secret)) throw new Error(`building init command: malformed instance secret`);
  return `umask 0177 && echo -n "${secret}" >${SECRET_PATH}\n${instanceInitCommand}`;
}

export function parseIdleBehavior(s: string | undefined): IdleBehavior | null {
  return s !== undefined && (IDLE_BEHAVIORS as readonly string[]).includes(s) ? (s as IdleBehavior) : null;
}
