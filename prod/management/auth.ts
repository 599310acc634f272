// Token checks of the management API, as the reference's `auth.RequireLiteralToken` and
// `health.Handler` make them, with comparisons in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Whether `given` equals `want`, in time that does not depend on where they differ or on
 * their lengths (both are hashed first, so timingSafeEqual always sees 32 bytes).
 */
export function tokensEqual(given: string, want: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(want, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * Every token a request carries, where the reference looks for them: `Authorization:
 * Bearer|OAuth2 <token>`, the password of HTTP Basic auth, `api_token` query parameters, and
 * the `arvados_api_token` cookie (base64url).
 */
export function requestTokens(req: IncomingMessage, query: URLSearchParams): string[] {
  const out: string[] = [];
  const auth = req.headers.authorization ?? '';
  const space = auth.indexOf(' ');
  if (space >= 0) {
    const scheme = auth.slice(0, space);
    const rest = auth.slice(space + 1);
    if (scheme === 'OAuth2' || scheme === 'Bearer') out.push(rest);
    if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(rest, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) out.push(decoded.slice(colon + 1));
    }
  }
  out.push(...query.getAll('api_token'));
  const cookie = cookieValue(req.headers.cookie, 'arvados_api_token');
  if (cookie !== undefined && cookie !== '') {
    const decoded = Buffer.from(cookie, 'base64url').toString('utf8');
    if (decoded !== '') out.push(decoded);
  }
  return out;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

export type AuthOutcome = 'ok' | 'missing' | 'wrong';

/** `RequireLiteralToken(want)`: no token → missing (401); no matching token → wrong (403). */
export function checkLiteralToken(req: IncomingMessage, query: URLSearchParams, want: string): AuthOutcome {
  const tokens = requestTokens(req, query);
  if (tokens.length === 0) return 'missing';
  // Compare with every token, not stopping at a match, so timing says nothing of which matched.
  let ok = false;
  for (const t of tokens) ok = tokensEqual(t, want) || ok;
  return ok ? 'ok' : 'wrong';
}

/** The health check's stricter rule: exactly `Authorization: Bearer <want>`. */
export function checkHealthToken(req: IncomingMessage, want: string): AuthOutcome {
  const auth = req.headers.authorization;
  if (auth === undefined || auth === '') return 'missing';
  return tokensEqual(auth, `Bearer ${want}`) ? 'ok' : 'wrong';
}
