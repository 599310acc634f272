import { readFileSync } from 'node:fs';

/**
 * vmdispatch's version, from the repository's package.json: one level above `cli/` when run
 * from source, two above `dist/cli/` when built. '(unknown)' when neither can be read, so a
 * relocated build still runs.
 */
export function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'vmdispatch' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not there: try the next place.
    }
  }
  return '(unknown)';
}
