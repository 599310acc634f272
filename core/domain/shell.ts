/**
 * Quote one word for a POSIX shell: single quotes, with each `'` written as `'\''`.
 * Every value interpolated into a remote command goes through this.
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
