import { describe, expect, it } from 'vitest';
import { policies } from '../core/scheduler/policies.js';
import { policyLines } from './policies.js';
import { main } from './main.js';

describe('vmdispatch policies', () => {
  it('prints one line per policy: name, then a one-line description; arvados is the default', () => {
    const lines = policyLines();
    expect(lines).toHaveLength(policies.length);
    expect(lines[0]).toMatch(/^arvados\t\S.* \(default\)$/);
    for (const l of lines) expect(l).not.toContain('\n');
  });

  it('rejects arguments with exit code 2', async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => void errors.push(m);
    try {
      expect(await main(['policies', '--bogus'])).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors[0]).toMatch(/vmdispatch policies: unexpected argument/);
  });
});
