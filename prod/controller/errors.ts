import { ControllerError, TransientError, type DispatchError } from '../../core/ports/errors.js';
import { parseJson } from '../../core/domain/json.js';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The `errors` array of an Arvados error body, or a short excerpt of a non-JSON body. */
export function apiErrorText(body: string): string {
  try {
    const v = parseJson(body);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const errs = v['errors'];
      if (Array.isArray(errs) && errs.length > 0) return errs.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ');
    }
  } catch {
    // not JSON: fall through to the excerpt
  }
  const t = body.trim().replace(/\s+/g, ' ');
  return t.length > 200 ? `${t.slice(0, 197)}...` : t;
}

/**
 * The one table from HTTP outcomes to the port's error kinds: every HTTP error status is a
 * ControllerError carrying it (core switches on 422/403/404/503); no response at all
 * (connection refused or reset, DNS, TLS, timeout) is a TransientError.
 */
export function httpError(doing: string, status: number, body: string): ControllerError {
  const text = apiErrorText(body);
  const reason = REASONS[status] ?? 'HTTP error';
  return new ControllerError(`${doing}: ${status} ${reason}${text === '' ? '' : `: ${text}`}`, status);
}

export function networkError(doing: string, cause: unknown): DispatchError {
  const msg = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
  return new TransientError(`${doing}: ${msg}`, { cause });
}
