import { createHash } from 'node:crypto';

/**
 * The few files a simulated VM needs: the instance secret, the deployed runner binary,
 * the crunch-run prices file and the broken marker. Owners and modes are kept because
 * the dispatcher's behaviour depends on them (the secret is root-only, so a non-root
 * user must `sudo cat` it; `md5sum` of the runner runs without sudo).
 */
export interface FsFile {
  readonly kind: 'file';
  data: Buffer;
  mode: number;
  owner: string;
}

export interface FsDir {
  readonly kind: 'dir';
  mode: number;
  owner: string;
}

export type FsNode = FsFile | FsDir;

/** A failed file operation; `message` reads like the coreutils error after the program name. */
export class FsError extends Error {}

export class VmFilesystem {
  private readonly nodes = new Map<string, FsNode>();

  constructor(user: string) {
    for (const d of ['/', '/root', '/usr', '/usr/bin', '/var', '/var/run', '/var/lock', '/var/lib', '/home']) {
      this.nodes.set(d, { kind: 'dir', mode: 0o755, owner: 'root' });
    }
    this.nodes.set('/tmp', { kind: 'dir', mode: 0o1777, owner: 'root' });
    if (user !== 'root') this.nodes.set(`/home/${user}`, { kind: 'dir', mode: 0o755, owner: user });
  }

  get(path: string): FsNode | undefined {
    return this.nodes.get(path);
  }

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  /** Read a file as `user`. */
  read(path: string, user: string): Buffer {
    const n = this.nodes.get(path);
    if (n === undefined) throw new FsError(`${path}: No such file or directory`);
    if (n.kind === 'dir') throw new FsError(`${path}: Is a directory`);
    if (!canAccess(n, user, 0o4)) throw new FsError(`${path}: Permission denied`);
    return n.data;
  }

  /** Create or truncate-and-write a file as `user`; new files get `0o666 & ~umask`. */
  write(path: string, data: Buffer, user: string, umask: number): void {
    const existing = this.nodes.get(path);
    if (existing?.kind === 'dir') throw new FsError(`${path}: Is a directory`);
    if (existing !== undefined) {
      if (!canAccess(existing, user, 0o2)) throw new FsError(`${path}: Permission denied`);
      existing.data = data;
      return;
    }
    this.checkParentWritable(path, user);
    this.nodes.set(path, { kind: 'file', data, mode: 0o666 & ~umask, owner: user });
  }

  /** `touch`: create an empty file if missing. */
  touch(path: string, user: string, umask: number): void {
    const n = this.nodes.get(path);
    if (n === undefined) this.write(path, Buffer.alloc(0), user, umask);
    else if (!canAccess(n, user, 0o2) && n.owner !== user) throw new FsError(`${path}: Permission denied`);
  }

  /** `mkdir` (with `-p`: parents too, and no error when it exists). */
  mkdir(path: string, user: string, umask: number, parents: boolean): void {
    const n = this.nodes.get(path);
    if (n !== undefined) {
      if (parents && n.kind === 'dir') return;
      throw new FsError(`cannot create directory '${path}': File exists`);
    }
    const parent = parentOf(path);
    if (!this.nodes.has(parent)) {
      if (!parents) throw new FsError(`cannot create directory '${path}': No such file or directory`);
      this.mkdir(parent, user, umask, true);
    }
    this.checkParentWritable(path, user);
    this.nodes.set(path, { kind: 'dir', mode: 0o777 & ~umask, owner: user });
  }

  chmod(path: string, mode: number, user: string): void {
    const n = this.nodes.get(path);
    if (n === undefined) throw new FsError(`cannot access '${path}': No such file or directory`);
    if (user !== 'root' && n.owner !== user) throw new FsError(`changing permissions of '${path}': Operation not permitted`);
    n.mode = mode;
  }

  remove(path: string): void {
    this.nodes.delete(path);
  }

  /** Hex MD5 of a readable file. */
  md5(path: string, user: string): string {
    return createHash('md5').update(this.read(path, user)).digest('hex');
  }

  isExecutable(path: string, user: string): boolean {
    const n = this.nodes.get(path);
    return n?.kind === 'file' && canAccess(n, user, 0o1);
  }

  private checkParentWritable(path: string, user: string): void {
    const parent = this.nodes.get(parentOf(path));
    if (parent === undefined) throw new FsError(`${path}: No such file or directory`);
    if (parent.kind !== 'dir') throw new FsError(`${path}: Not a directory`);
    if (!canAccess(parent, user, 0o2)) throw new FsError(`${path}: Permission denied`);
  }
}

/** Resolve `path` against `cwd` and normalise `.`, `..` and repeated slashes. */
export function resolvePath(path: string, cwd: string): string {
  const abs = path.startsWith('/') ? path : `${cwd}/${path}`;
  const out: string[] = [];
  for (const seg of abs.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** `bit` is 4 (read), 2 (write) or 1 (execute); root bypasses all but execute. */
function canAccess(n: FsNode, user: string, bit: number): boolean {
  if (user === 'root') return bit !== 1 || (n.mode & 0o111) !== 0;
  const shift = n.owner === user ? 6 : 0;
  return ((n.mode >> shift) & bit) !== 0;
}
