/**
 * A parser for the small subset of POSIX shell that the dispatcher sends to a VM
 * (reference: arvados-interfaces.md section 5.3): words in single quotes, double quotes
 * with `$name`/`${name}` expansion, bare words, `;`, `&&`, newlines, `>` redirection and
 * `#` comments. Anything else (pipes, `||`, `$(...)`, backquotes, globs, `<`, `&`,
 * subshells, braces) is refused with a ShellSyntaxError, which the VM turns into exit 2:
 * a simulated VM that guessed at unsupported syntax could hide a quoting bug in the core.
 *
 * Expansion happens when a command runs (`dstfile="..."; cat >"$dstfile"` reads a
 * variable set earlier on the same line), so words are kept as parts.
 */

export class ShellSyntaxError extends Error {
  constructor(message: string) {
    super(`parsing shell command: ${message}`);
    this.name = 'ShellSyntaxError';
  }
}

/** A piece of a word: literal text, or a variable to expand when the command runs. */
export type WordPart =
  | { readonly kind: 'text'; readonly text: string; readonly quoted: boolean }
  | { readonly kind: 'var'; readonly name: string };

export type Word = readonly WordPart[];

export interface Assignment {
  readonly name: string;
  readonly value: Word;
}

export interface SimpleCommand {
  readonly assignments: readonly Assignment[];
  readonly words: readonly Word[];
  /** `>target`: stdout of the command replaces the file's content. */
  readonly redirects: readonly Word[];
}

/** Commands joined by `&&`: each runs only while the previous ones succeeded. */
export type AndList = readonly SimpleCommand[];

/** `;`- or newline-separated lists. */
export type Script = readonly AndList[];

const BARE = /[A-Za-z0-9_./:=@%+,~^-]/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

type Token = { readonly kind: 'word'; readonly word: Word } | { readonly kind: 'op'; readonly op: ';' | '&&' | '>' };

export function parseScript(src: string): Script {
  const tokens = tokenize(src);
  const script: AndList[] = [];
  let list: SimpleCommand[] = [];
  let cmd = newCommand();
  const finishCommand = (allowEmpty: boolean): void => {
    if (cmd.words.length === 0 && cmd.assignments.length === 0) {
      if (cmd.redirects.length > 0 || !allowEmpty) throw new ShellSyntaxError('empty command');
      return;
    }
    list.push(cmd);
    cmd = newCommand();
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'word') {
      const assignment = cmd.words.length === 0 ? asAssignment(t.word) : null;
      if (assignment !== null) cmd.assignments.push(assignment);
      else cmd.words.push(t.word);
      continue;
    }
    switch (t.op) {
      case '>': {
        const target = tokens[++i];
        if (target?.kind !== 'word') throw new ShellSyntaxError('`>` without a file name');
        cmd.redirects.push(target.word);
        break;
      }
      case '&&':
        finishCommand(false);
        break;
      case ';':
        if (cmd.words.length === 0 && cmd.assignments.length === 0 && list.length > 0) {
          throw new ShellSyntaxError('`&&` followed by nothing');
        }
        finishCommand(true);
        if (list.length > 0) script.push(list);
        list = [];
        break;
    }
  }
  if (cmd.words.length === 0 && cmd.assignments.length === 0 && list.length > 0) {
    throw new ShellSyntaxError('`&&` followed by nothing');
  }
  finishCommand(true);
  if (list.length > 0) script.push(list);
  return script;
}

/** Expand a word with `env` (unset variables expand to ''). No field splitting. */
export function expandWord(word: Word, env: ReadonlyMap<string, string>): string {
  let out = '';
  for (const p of word) out += p.kind === 'text' ? p.text : (env.get(p.name) ?? '');
  return out;
}

function newCommand(): { assignments: Assignment[]; words: Word[]; redirects: Word[] } {
  return { assignments: [], words: [], redirects: [] };
}

function asAssignment(word: Word): Assignment | null {
  const first = word[0];
  if (first?.kind !== 'text' || first.quoted) return null;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text);
  if (m === null) return null;
  const rest = first.text.slice(m[0].length);
  const value: WordPart[] = rest === '' ? [] : [{ kind: 'text', text: rest, quoted: false }];
  return { name: m[1]!, value: [...value, ...word.slice(1)] };
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '\n' || c === ';') {
      tokens.push({ kind: 'op', op: ';' });
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '&') {
      if (src[i + 1] !== '&') throw new ShellSyntaxError('background `&` is not supported');
      tokens.push({ kind: 'op', op: '&&' });
      i += 2;
    } else if (c === '>') {
      if (src[i + 1] === '>' || src[i + 1] === '&' || src[i + 1] === '|') {
        throw new ShellSyntaxError(`redirection ${JSON.stringify(src.slice(i, i + 2))} is not supported`);
      }
      tokens.push({ kind: 'op', op: '>' });
      i++;
    } else {
      const [word, next] = readWord(src, i);
      tokens.push({ kind: 'word', word });
      i = next;
    }
  }
  return tokens;
}

function readWord(src: string, start: number): [Word, number] {
  const parts: WordPart[] = [];
  const text = (t: string, quoted: boolean) => {
    const last = parts[parts.length - 1];
    if (last?.kind === 'text' && last.quoted === quoted) parts[parts.length - 1] = { kind: 'text', text: last.text + t, quoted };
    else parts.push({ kind: 'text', text: t, quoted });
  };
  let i = start;
  while (i < src.length) {
    const c = src[i]!;
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError('unterminated single quote');
      text(src.slice(i + 1, end), true);
      i = end + 1;
    } else if (c === '"') {
      i = readDoubleQuoted(src, i + 1, parts, text);
    } else if (c === '\\') {
      if (i + 1 >= src.length) throw new ShellSyntaxError('trailing backslash');
      if (src[i + 1] !== '\n') text(src[i + 1]!, true);
      i += 2;
    } else if (c === '$') {
      i = readVariable(src, i, parts);
    } else if (BARE.test(c)) {
      text(c, false);
      i++;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === ';' || c === '&' || c === '>') {
      break;
    } else {
      throw new ShellSyntaxError(`${JSON.stringify(c)} is not supported`);
    }
  }
  return [parts, i];
}

function readDoubleQuoted(
  src: string,
  start: number,
  parts: WordPart[],
  text: (t: string, quoted: boolean) => void,
): number {
  let i = start;
  // An empty "" still makes a (quoted, empty) word.
  text('', true);
  for (;;) {
    if (i >= src.length) throw new ShellSyntaxError('unterminated double quote');
    const c = src[i]!;
    if (c === '"') return i + 1;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === '"' || n === '\\' || n === '$' || n === '`') {
        text(n, true);
        i += 2;
      } else {
        text('\\', true);
        i++;
      }
    } else if (c === '$') {
      i = readVariable(src, i, parts);
    } else if (c === '`') {
      throw new ShellSyntaxError('command substitution is not supported');
    } else {
      text(c, true);
      i++;
    }
  }
}

function readVariable(src: string, dollar: number, parts: WordPart[]): number {
  const rest = src.slice(dollar + 1);
  if (rest.startsWith('{')) {
    const m = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(rest);
    if (m === null) throw new ShellSyntaxError('only ${name} parameter expansion is supported');
    parts.push({ kind: 'var', name: m[1]! });
    return dollar + 1 + m[0].length;
  }
  const m = NAME.exec(rest);
  if (m === null) throw new ShellSyntaxError(`${JSON.stringify(src.slice(dollar, dollar + 2))} is not supported`);
  parts.push({ kind: 'var', name: m[0] });
  return dollar + 1 + m[0].length;
}
