/**
 * Bad input from the user: an unreadable or invalid file, an unknown option. The CLI prints
 * the message (no stack trace) and exits 2. Messages name the file, the path inside it and
 * what was expected: "scenario.yaml: cloud.bootTime: expected a duration like 90s, got -3m".
 */
export class InputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** The run worked but a check failed (expectation, invariant, probe): exit 1. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}
