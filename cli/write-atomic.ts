import { renameSync, writeFileSync } from 'node:fs';

/** Write a file whole or not at all: a crash mid-write never leaves half a summary behind. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
