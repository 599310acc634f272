// Every mapper policy beyond the default, through the simulator on every scenario in
// scenarios/: no invariant broken and every expectation met (the scenarios' expectations
// hold whatever the policy). all-scenarios.test.ts covers the default policy.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, policyNames } from '../../core/scheduler/policies.js';
import { loadScenarioFile } from '../scenario/scenario.js';
import { runScenario } from './run-scenario.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(repoRoot, 'scenarios');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const cases = policyNames()
  .filter((p) => p !== DEFAULT_POLICY)
  .flatMap((p) => files.map((f) => [p, f] as const));

describe('every policy on every scenario in scenarios/', () => {
  it.each(cases)('%s on %s', async (policy, f) => {
    const r = await runScenario(loadScenarioFile(join(dir, f), { policy }));
    const s = r.summary;
    expect(s.policy).toBe(policy);
    expect(s.endReason).toBe('done');
    expect(s.invariantViolations).toEqual([]);
    expect(s.expectations.filter((e) => !e.ok)).toEqual([]);
  }, 300_000);
});
