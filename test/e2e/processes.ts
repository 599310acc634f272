// Real OS processes for the end-to-end tests: `node dist/cli/bin.js world|serve|instance`,
// with their output kept, bounded waits that poll, and clean-up that never leaves a child.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorldStatus } from '../../sim/world/world-status.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The compiled CLI (`npm ci` builds it); VMDISPATCH_E2E_BIN points elsewhere for development. */
export const BIN = process.env['VMDISPATCH_E2E_BIN'] ?? join(REPO_ROOT, 'dist', 'cli', 'bin.js');

/** Sources whose compiled form the end-to-end run needs, relative to the repository root. */
const NEEDED = ['cli/serve.ts', 'cli/world.ts', 'cli/main.ts', 'prod/daemon/daemon.ts', 'sim/world/world.ts', 'sim/world/world-status.ts', 'sim/world/world-config.ts'];

/**
 * Why the compiled CLI cannot be used, or null when it can: missing, or (with the default
 * dist/) older than the sources it needs. CI builds it first (`npm ci`); a developer who has
 * not rebuilt gets a skip with the reason instead of a confusing failure.
 */
export function distProblem(): string | null {
  if (!existsSync(BIN)) return `${BIN} is missing (run \`npm run build\`)`;
  if (process.env['VMDISPATCH_E2E_BIN'] !== undefined) return null;
  for (const src of NEEDED) {
    const out = join(REPO_ROOT, 'dist', src.replace(/\.ts$/, '.js'));
    if (!existsSync(out)) return `${out} is missing (run \`npm run build\`)`;
    if (statSync(out).mtimeMs < statSync(join(REPO_ROOT, src)).mtimeMs) return `${out} is older than ${src} (run \`npm run build\`)`;
  }
  return null;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const live = new Set<Proc>();

/** One `vmdispatch` child process. */
export class Proc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit: Exit | null = null;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    args: readonly string[],
  ) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === null;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves once stderr has a line matching `re`; rejects at the deadline or when the process exits first. */
  async waitForStderr(re: RegExp, timeoutMs: number): Promise<void> {
    await pollUntil(`${this.name} to print ${re}`, timeoutMs, () => {
      if (re.test(this.stderr)) return true;
      if (!this.running) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before printing ${re}:\n${this.tail()}`);
      return false;
    });
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** Sends `sig` and waits for the exit; SIGKILL (and a failure) past the deadline. */
  async stop(sig: NodeJS.Signals, timeoutMs: number): Promise<Exit> {
    this.signal(sig);
    const deadline = new Promise<'late'>((r) => setTimeout(() => r('late'), timeoutMs).unref());
    const r = await Promise.race([this.exited, deadline]);
    if (r === 'late') {
      this.signal('SIGKILL');
      await this.exited;
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms of ${sig}:\n${this.tail()}`);
    }
    return r;
  }

  tail(lines = 30): string {
    return this.stderr.split('\n').slice(-lines).join('\n');
  }
}

/** SIGKILLs every child still running (afterEach/afterAll). */
export async function killAll(): Promise<void> {
  const all = [...live];
  for (const p of all) p.signal('SIGKILL');
  await Promise.all(all.map((p) => p.exited));
}

/**
 * Calls `check` every `everyMs` until it returns true; rejects with "waiting for WHAT" at the
 * deadline (bounded, never a fixed sleep that assumes speed).
 */
export async function pollUntil(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>, everyMs = 200): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`waiting for ${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The world's `--summary-out` file, or null while it is not written yet. */
export async function readStatus(file: string): Promise<WorldStatus | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as WorldStatus;
  } catch {
    return null;
  }
}

/** Waits until the world's status satisfies `pred`; returns that status. */
export async function waitForStatus(file: string, what: string, timeoutMs: number, pred: (s: WorldStatus) => boolean): Promise<WorldStatus> {
  let last: WorldStatus | null = null;
  try {
    await pollUntil(what, timeoutMs, async () => {
      last = await readStatus(file);
      return last !== null && pred(last);
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}; last world status: ${JSON.stringify(last)}`, { cause: e });
  }
  return last as unknown as WorldStatus;
}
