export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Structured logging. Messages are short and constant ("instance shut down"); the details
 * go in fields. Callers never put tokens, keys or instance secrets in a message or field.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** A logger that drops everything: for tests and for the simulator's fast path. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return nullLogger;
  },
};
