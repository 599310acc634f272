import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../scenario/scenario.js';
import { runScenario } from './run-scenario.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(repoRoot, 'scenarios');

describe('every scenario in scenarios/ meets its expectations', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('%s', async (f) => {
    const r = await runScenario(loadScenarioFile(join(dir, f)));
    const s = r.summary;
    expect(s.endReason).toBe('done');
    expect(s.invariantViolations).toEqual([]);
    expect(s.expectations.filter((e) => !e.ok)).toEqual([]);
  }, 300_000);
});
