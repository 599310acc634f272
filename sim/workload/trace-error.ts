/**
 * A trace file (SWF, cluster CSV) has a line that cannot be read. `line` is 1-based; the
 * workload generator adds the file name and the scenario path.
 */
export class TraceFormatError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'TraceFormatError';
  }
}

/** Jobs a trace importer left out, by reason (e.g. `no run time`), with counts. */
export type SkipCounts = Record<string, number>;

export function countSkip(skips: SkipCounts, reason: string): void {
  skips[reason] = (skips[reason] ?? 0) + 1;
}

/** Splits text into lines (LF or CRLF) without holding a second copy of the whole file. */
export function* lines(text: string): Generator<{ line: number; text: string }> {
  let start = 0;
  let n = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    n++;
    const raw = text.slice(start, end);
    yield { line: n, text: raw.endsWith('\r') ? raw.slice(0, -1) : raw };
    start = end + 1;
  }
}
