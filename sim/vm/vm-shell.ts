import { expandWord, parseScript, ShellSyntaxError, type Script, type SimpleCommand } from './shell-parser.js';
import { FsError, resolvePath, type VmFilesystem } from './vm-filesystem.js';

/** What a command or script produced. stdout is bytes: `cat` passes binaries through. */
export interface ShellResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** One shell invocation's state. stdin is shared: the first reader consumes it. */
export interface ShellContext {
  user: string;
  umask: number;
  errexit: boolean;
  readonly env: Map<string, string>;
  readonly stdin: { data: Buffer };
}

/** A result now, or later when the command waits on the clock (a crunch-run `--kill`). */
export type MaybeAsync<T> = T | Promise<T>;

/**
 * Runs a program that is not a shell builtin or coreutil (crunch-run, the boot probe);
 * returns null when no such program exists (the shell then says "not found", exit 127).
 */
export type ProgramRunner = (argv: readonly string[], ctx: ShellContext) => MaybeAsync<ShellResult> | null;

const EMPTY = Buffer.alloc(0);

export function result(exitCode: number, stdout: string | Buffer = EMPTY, stderr = ''): ShellResult {
  return { exitCode, stdout: typeof stdout !== 'string' ? stdout : stdout === '' ? EMPTY : Buffer.from(stdout), stderr };
}

// Probes send the same few command strings over and over: parse each once. Scripts are
// immutable, so sharing them is safe; the cap keeps odd workloads from growing it forever.
const parsed = new Map<string, Script>();
const PARSE_CACHE_MAX = 4096;

function parseCached(src: string): Script {
  let s = parsed.get(src);
  if (s === undefined) {
    s = parseScript(src);
    if (parsed.size >= PARSE_CACHE_MAX) parsed.clear();
    parsed.set(src, s);
  }
  return s;
}

/**
 * A /bin/sh for the command subset the dispatcher sends (see shell-parser.ts), with the
 * coreutils it uses: set -e, umask, true, false, echo, cat, md5sum, mkdir, touch, chmod,
 * sh -c and sudo. Everything runs on the VM's in-memory filesystem.
 */
export class VmShell {
  constructor(
    private readonly fs: VmFilesystem,
    private readonly programs: ProgramRunner,
  ) {}

  /** Parse and run `src` as `user`; unsupported syntax exits 2, as sh does for a syntax error. */
  async run(src: string, user: string, stdin: Buffer): Promise<ShellResult> {
    return this.runNow(src, user, stdin);
  }

  /**
   * `run` without a promise when no command waits: the probe path runs millions of
   * commands that complete at once, and each promise layer costs a microtask turn.
   * Throws (rather than rejects) on a bug.
   */
  runNow(src: string, user: string, stdin: Buffer): MaybeAsync<ShellResult> {
    let script: Script;
    try {
      script = parseCached(src);
    } catch (e) {
      if (e instanceof ShellSyntaxError) return result(2, EMPTY, `sh: ${e.message}\n`);
      throw e;
    }
    return this.runScript(script, newContext(user, stdin));
  }

  runScript(script: Script, ctx: ShellContext): MaybeAsync<ShellResult> {
    return this.resume(script, ctx, 0, 0, { out: [], err: '', status: 0 });
  }

  /** Runs `script` from command `i0` of list `li0` on, going async only at a command that does. */
  private resume(script: Script, ctx: ShellContext, li0: number, i0: number, st: ScriptState): MaybeAsync<ShellResult> {
    for (let li = li0; li < script.length; li++) {
      const list = script[li]!;
      for (let i = li === li0 ? i0 : 0; i < list.length; i++) {
        const last = i === list.length - 1;
        const r = this.runCommand(list[i]!, ctx);
        if (r instanceof Promise) {
          return r.then((res) => {
            const next = absorb(st, res, ctx.errexit && last);
            if (next === 'exit') return scriptResult(st);
            return next === 'next' ? this.resume(script, ctx, li, i + 1, st) : this.resume(script, ctx, li + 1, 0, st);
          });
        }
        const next = absorb(st, r, ctx.errexit && last);
        if (next === 'exit') return scriptResult(st);
        if (next === 'break') break;
      }
    }
    return scriptResult(st);
  }

  private runCommand(cmd: SimpleCommand, ctx: ShellContext): MaybeAsync<ShellResult> {
    for (const a of cmd.assignments) ctx.env.set(a.name, expandWord(a.value, ctx.env));
    const targets = cmd.redirects.length === 0 ? NO_TARGETS : cmd.redirects.map((w) => resolvePath(expandWord(w, ctx.env), cwd(ctx.user)));
    // The shell opens (and truncates) redirection targets before the command runs.
    for (const t of targets) {
      try {
        this.fs.write(t, EMPTY, ctx.user, ctx.umask);
      } catch (e) {
        if (e instanceof FsError) return result(2, EMPTY, `sh: 1: cannot create ${e.message}\n`);
        throw e;
      }
    }
    if (cmd.words.length === 0) return result(0);
    const argv = cmd.words.map((w) => expandWord(w, ctx.env));
    const r = this.exec(argv, ctx);
    if (targets.length === 0) return r;
    return r instanceof Promise ? r.then((x) => this.redirect(x, targets, ctx)) : this.redirect(r, targets, ctx);
  }

  private redirect(r: ShellResult, targets: readonly string[], ctx: ShellContext): ShellResult {
    this.fs.write(targets[targets.length - 1]!, r.stdout, ctx.user, ctx.umask);
    return result(r.exitCode, EMPTY, r.stderr);
  }

  private exec(argv: readonly string[], ctx: ShellContext): MaybeAsync<ShellResult> {
    const name = argv[0] ?? '';
    try {
      const r = this.execProgram(name, argv, ctx);
      return r instanceof Promise ? r.catch((e: unknown) => fsFailure(name, e)) : r;
    } catch (e) {
      return fsFailure(name, e);
    }
  }

  private execProgram(name: string, argv: readonly string[], ctx: ShellContext): MaybeAsync<ShellResult> {
    switch (name) {
      case 'true':
        return result(0);
      case 'false':
        return result(1);
      case 'set':
        if (argv.length === 2 && argv[1] === '-e') {
          ctx.errexit = true;
          return result(0);
        }
        return result(2, EMPTY, `sh: set: only "set -e" is supported\n`);
      case 'umask': {
        const args = argv.slice(1);
        if (args.length === 0) return result(0, ctx.umask.toString(8).padStart(4, '0') + '\n');
        if (args.length !== 1 || !/^[0-7]{1,4}$/.test(args[0]!)) return result(2, EMPTY, `sh: umask: Illegal mode\n`);
        ctx.umask = parseInt(args[0]!, 8);
        return result(0);
      }
      case 'echo': {
        const args = argv.slice(1);
        const noNewline = args[0] === '-n';
        const text = (noNewline ? args.slice(1) : args).join(' ');
        return result(0, noNewline ? text : text + '\n');
      }
      case 'cat': {
        const args = argv.slice(1);
        if (args.length === 0) return result(0, takeStdin(ctx));
        return result(0, Buffer.concat(args.map((a) => this.fs.read(resolvePath(a, cwd(ctx.user)), ctx.user))));
      }
      case 'md5sum':
        return this.md5sum(argv.slice(1), ctx);
      case 'mkdir': {
        const args = argv.slice(1);
        const parents = args[0] === '-p';
        for (const a of parents ? args.slice(1) : args) this.fs.mkdir(resolvePath(a, cwd(ctx.user)), ctx.user, ctx.umask, parents);
        return result(0);
      }
      case 'touch':
        for (let i = 1; i < argv.length; i++) this.fs.touch(resolvePath(argv[i]!, cwd(ctx.user)), ctx.user, ctx.umask);
        return result(0);
      case 'chmod': {
        const [mode, ...files] = argv.slice(1);
        if (mode === undefined || !/^[0-7]{3,4}$/.test(mode) || files.length === 0) {
          return result(1, EMPTY, `chmod: only octal modes are supported\n`);
        }
        for (const f of files) this.fs.chmod(resolvePath(f, cwd(ctx.user)), parseInt(mode, 8), ctx.user);
        return result(0);
      }
      case 'sudo':
        if (argv.length === 1 || argv[1]!.startsWith('-')) return result(1, EMPTY, 'usage: sudo command\n');
        return this.exec(argv.slice(1), { ...ctx, user: 'root' });
      case 'sh':
      case '/bin/sh':
        return this.sh(argv.slice(1), ctx);
      default: {
        const ran = this.programs(argv, ctx);
        if (ran !== null) return ran;
        return result(127, EMPTY, `sh: 1: ${name}: not found\n`);
      }
    }
  }

  private md5sum(args: readonly string[], ctx: ShellContext): ShellResult {
    let out = '';
    let err = '';
    for (const a of args) {
      try {
        out += `${this.fs.md5(resolvePath(a, cwd(ctx.user)), ctx.user)}  ${a}\n`;
      } catch (e) {
        if (!(e instanceof FsError)) throw e;
        err += `md5sum: ${e.message}\n`;
      }
    }
    return result(err === '' ? 0 : 1, out, err);
  }

  private sh(args: readonly string[], ctx: ShellContext): MaybeAsync<ShellResult> {
    if (args.length < 2 || args[0] !== '-c') return result(2, EMPTY, 'sh: only "sh -c SCRIPT" is supported\n');
    let script: Script;
    try {
      script = parseScript(args[1]!);
    } catch (e) {
      if (e instanceof ShellSyntaxError) return result(2, EMPTY, `sh: ${e.message}\n`);
      throw e;
    }
    return this.runScript(script, { user: ctx.user, umask: ctx.umask, errexit: false, env: new Map(), stdin: ctx.stdin });
  }
}

interface ScriptState {
  readonly out: Buffer[];
  err: string;
  status: number;
}

const NO_TARGETS: readonly string[] = [];

/** Folds one command's result into the script's; what the script does next. */
function absorb(st: ScriptState, r: ShellResult, exitOnFailure: boolean): 'next' | 'break' | 'exit' {
  if (r.stdout.length > 0) st.out.push(r.stdout);
  st.err += r.stderr;
  st.status = r.exitCode;
  if (st.status === 0) return 'next';
  // POSIX: -e does not apply to a failure that a following && short-circuits.
  return exitOnFailure ? 'exit' : 'break';
}

function scriptResult(st: ScriptState): ShellResult {
  return result(st.status, joinChunks(st.out), st.err);
}

function fsFailure(name: string, e: unknown): ShellResult {
  if (e instanceof FsError) return result(1, EMPTY, `${name}: ${e.message}\n`);
  throw e;
}

function joinChunks(chunks: Buffer[]): Buffer {
  if (chunks.length === 0) return EMPTY;
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export function newContext(user: string, stdin: Buffer): ShellContext {
  return { user, umask: 0o022, errexit: false, env: new Map(), stdin: { data: stdin } };
}

export function takeStdin(ctx: ShellContext): Buffer {
  const data = ctx.stdin.data;
  ctx.stdin.data = EMPTY;
  return data;
}

function cwd(user: string): string {
  return user === 'root' ? '/root' : `/home/${user}`;
}
