// SystemLogs.Format `text` (and `plain`): one line per record in the shape of logrus'
// TextFormatter, which the reference's text logs use:
//   time="2026-06-01T12:00:00.000Z" level=info msg="instance shut down" Instance=i-0abc Reason=idle
// time, level and msg first, then the fields sorted by name. A value is quoted (JSON string
// syntax, close to Go's %q) unless it is made only of letters, digits and -._/@^+, so a
// newline or a quote inside a value never breaks a line or forges a field.

/** Characters a bare (unquoted) value or key may contain, as logrus' needsQuoting allows. */
const BARE = /^[A-Za-z0-9\-._/@^+]+$/;

const FIRST = ['time', 'level', 'msg'] as const;

/** `s` as logrus writes it: bare when safe, else a JSON-quoted string. */
export function quoteTextValue(s: string): string {
  return BARE.test(s) ? s : JSON.stringify(s);
}

function render(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return quoteTextValue(v);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'undefined':
      return quoteTextValue('');
    default:
      // Nested objects, arrays and errors (already made JSON-safe by the redactor) as JSON.
      return v === null ? 'null' : quoteTextValue(JSON.stringify(v));
  }
}

/**
 * One text line (with its newline) for a log record whose `time`, `level` and `msg` are the
 * pino JSON logger's keys. `withTime` false drops the timestamp (Arvados' `plain`).
 */
export function formatTextLine(record: Readonly<Record<string, unknown>>, withTime: boolean): string {
  const parts: string[] = [];
  for (const k of FIRST) {
    if (k === 'time' && !withTime) continue;
    if (record[k] !== undefined) parts.push(`${k}=${render(record[k])}`);
  }
  const rest = Object.keys(record)
    .filter((k) => !(FIRST as readonly string[]).includes(k))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const k of rest) parts.push(`${quoteTextValue(k)}=${render(record[k])}`);
  return `${parts.join(' ')}\n`;
}

/**
 * A stream that takes pino's JSON lines and writes them to `out` as text lines. Pino writes
 * one whole line per call, so each call is parsed on its own.
 */
export function textStream(out: { write(chunk: string): boolean }, withTime: boolean): { write(chunk: string): boolean } {
  return {
    write(chunk: string): boolean {
      let text = '';
      for (const line of chunk.split('\n')) {
        if (line === '') continue;
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          record = { msg: line };
        }
        text += formatTextLine(typeof record === 'object' && record !== null ? (record as Record<string, unknown>) : { msg: String(record) }, withTime);
      }
      return text === '' ? true : out.write(text);
    },
  };
}
