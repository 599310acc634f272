import { stringifyJson } from '../../core/domain/json.js';

/**
 * Encodes API parameters as the Go SDK does (sdk/go/arvados/client.go): strings as they
 * are, numbers and bigints in decimal, `true` as "true", false and null omitted, objects
 * and arrays as JSON (bigints as exact JSON integers).
 */
export function encodeParams(params: Readonly<Record<string, unknown>>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'string') form.append(k, v);
    else if (typeof v === 'number' || typeof v === 'bigint') form.append(k, v.toString());
    else if (v === true) form.append(k, 'true');
    else form.append(k, stringifyJson(v));
  }
  return form.toString();
}
