import { createHash } from 'node:crypto';

/**
 * The InstanceSetID that marks this dispatcher's VMs (the `<TagKeyPrefix>InstanceSetID`
 * tag), derived from SystemRootToken exactly as Arvados' dispatcher does so that the two
 * adopt each other's VMs: for a `v2/<uuid>/<secret>` token, the uuid part; otherwise the
 * lowercase hex MD5 of the whole token. (Arvados' config validation only admits
 * alphanumeric tokens, so in practice it is always the MD5 form.)
 */
export function instanceSetIdFromToken(token: string): string {
  if (token.startsWith('v2/')) {
    return token.split('/')[1] ?? '';
  }
  return createHash('md5').update(token, 'utf8').digest('hex');
}
