import { describe, expect, it } from 'vitest';
import { evaluate, parseExpectation } from './expectations.js';
import { ScenarioError } from './scenario-error.js';

const summary = { containers: { complete: 10, total: 10, lost: 0 }, wait: { p95: 300 }, cost: { total: 4.5 } };

describe('expectations', () => {
  it.each([
    ['containers.complete == containers.total', true, 10],
    ['wait.p95 <= 900', true, 300],
    ['wait.p95 < 300', false, 300],
    ['cost.total > 4', true, 4.5],
    ['containers.lost != 0', false, 0],
    ['containers.lost >= 0', true, 0],
  ])('%s evaluates to %s', (text, ok, value) => {
    expect(evaluate(parseExpectation(text, 'expect[0]'), summary)).toEqual({ text, ok, value });
  });

  it('fails, with a null value, when the path names no number', () => {
    expect(evaluate(parseExpectation('wait.p99 < 10', 'expect[0]'), summary)).toEqual({ text: 'wait.p99 < 10', ok: false, value: null });
  });

  it('rejects malformed text with the path', () => {
    expect(() => parseExpectation('wait.p95 =< 900', 'expect[2]')).toThrow(ScenarioError);
    expect(() => parseExpectation('wait.p95 =< 900', 'expect[2]')).toThrow(/^expect\[2\]: expected "PATH OP NUMBER"/);
    expect(() => parseExpectation(42, 'expect[0]')).toThrow(/expect\[0\]/);
  });
});
