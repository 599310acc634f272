import { isContainerUuid } from '../domain/container.js';
import { shellQuote } from '../domain/shell.js';
import { SECRET_PATH } from './tags.js';

/**
 * The exact remote commands the pool issues (reference: arvados-interfaces §5.3). For the
 * usual values they are byte-identical to the Go dispatcher's, so a simulated or real VM
 * sees the same strings; any value that is not a plain shell word is single-quoted, and
 * container UUIDs are validated before they reach a command at all.
 */
export class RemoteCommands {
  private readonly sudo: string;
  /** The runner path as it appears in commands (quoted if it needs to be). */
  readonly runner: string;
  /** `list(false)` and `list(true)`, built once: every probe sends one. */
  private readonly lists: readonly [string, string];

  constructor(
    /** Deployed `<dir>/crunch-run~<md5>` or CrunchRunCommand. */
    readonly runnerPath: string,
    remoteUser: string,
  ) {
    this.sudo = remoteUser === 'root' ? '' : 'sudo ';
    this.runner = shellWord(runnerPath);
    this.lists = [`${this.sudo}${this.runner} --list`, `${this.sudo}${this.runner} --list --stdin-prices`];
  }

  /** `[sudo ]RUNNER --list[ --stdin-prices]` */
  list(withPrices: boolean): string {
    return this.lists[withPrices ? 1 : 0];
  }

  /** `[sudo ]RUNNER --detach --stdin-config '<arg>'... '<uuid>'`; throws on a bad uuid. */
  detach(uuid: string, args: readonly string[]): string {
    checkUuid(uuid, 'starting container');
    const quoted = [...args, uuid].map(shellQuote).join(' ');
    return `${this.sudo}${this.runner} --detach --stdin-config ${quoted}`;
  }

  /** `[sudo ]RUNNER --kill <signal> <uuid>`; throws on a bad uuid. */
  kill(uuid: string, signal: number): string {
    checkUuid(uuid, 'killing container');
    if (!Number.isInteger(signal) || signal < 1 || signal > 64) throw new Error(`killing container: bad signal ${signal}`);
    return `${this.sudo}${this.runner} --kill ${signal} ${shellWord(uuid)}`;
  }

  /** `md5sum RUNNER`, never with sudo (as written in Arvados). */
  md5sum(): string {
    return `md5sum ${this.runner}`;
  }

  /** True when `stdout` of md5sum shows `md5` for the runner path exactly. */
  md5Matches(stdout: string, stderr: string, md5: string): boolean {
    return stderr === '' && stdout === `${md5}  ${this.runnerPath}\n`;
  }

  /**
   * The install line: directories and mode first, so the hash can never be right while the
   * mode is wrong; the binary arrives on stdin.
   */
  install(): string {
    const slash = this.runnerPath.lastIndexOf('/');
    const dir = slash >= 0 ? this.runnerPath.slice(0, slash + 1) : './';
    const line =
      `set -e; dstdir=${goQuote(dir)}; dstfile=${goQuote(this.runnerPath)}; ` +
      `mkdir -p "$dstdir"; touch "$dstfile"; chmod 0755 "$dstdir" "$dstfile"; cat >"$dstfile"`;
    return this.sudo === '' ? line : `sudo sh -c ${shellQuote(line)}`;
  }

  /** Reads the instance secret for host verification. */
  catSecret(): string {
    return `${this.sudo}cat ${SECRET_PATH}`;
  }
}

/** Result of parsing `crunch-run --list` output (shared between probes with the same output: read-only). */
export interface ListOutput {
  readonly running: readonly string[];
  readonly stale: readonly string[];
  readonly broken: boolean;
  /** Lines that claimed to be ours but were not a valid container UUID. */
  readonly rejected: readonly string[];
}

/**
 * Parse `--list` output: `broken`, `<uuid>` and `<uuid> stale` lines; lines that do not
 * start with our cluster id belong to another cluster sharing the host and are ignored.
 */
export function parseListOutput(stdout: string, clusterId: string): ListOutput {
  const out = { running: [] as string[], stale: [] as string[], broken: false, rejected: [] as string[] };
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line === 'broken') {
      out.broken = true;
      continue;
    }
    if (!line.startsWith(clusterId)) continue;
    const stale = line.endsWith(' stale');
    const uuid = stale ? line.slice(0, -' stale'.length) : line;
    if (!isContainerUuid(uuid)) out.rejected.push(line);
    else if (stale) out.stale.push(uuid);
    else out.running.push(uuid);
  }
  return out;
}

function checkUuid(uuid: string, doing: string): void {
  if (!isContainerUuid(uuid)) throw new Error(`${doing}: refusing malformed container uuid ${JSON.stringify(uuid.slice(0, 64))}`);
}

const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-][A-Za-z0-9_@%+=:,./~-]*$/;

/** The word as is when the shell would read it literally anyway, else single-quoted. */
export function shellWord(word: string): string {
  return PLAIN_WORD.test(word) ? word : shellQuote(word);
}

/** Go's %q for the characters a path may hold; anything the shell could expand is escaped. */
function goQuote(s: string): string {
  return `"${s.replace(/[\\"$`]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}
