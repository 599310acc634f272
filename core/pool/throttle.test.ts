import { describe, it, expect } from 'vitest';
import { virtualClock } from '../../test/fakes/pool-harness.js';
import { RateLimitError } from '../ports/errors.js';

import { Throttle } from './throttle.js';

describe('throttle', () => {
  it('TestRateLimitError: error until the deadline, then cleared, with a notify after expiry', async () => {
    const engine = virtualClock(5_000);
    let notified = 0;
    const t = new Throttle(engine, () => notified++);
    expect(t.error()).toBeNull();
    expect(t.checkRateLimitError(new Error('other'))).toBe(false);
    expect(t.checkRateLimitError(new RateLimitError('listing: slow down', 0))).toBe(false);
    expect(t.checkRateLimitError(new RateLimitError('listing: slow down', 1_000))).toBe(true);
    expect(t.error()).toBeInstanceOf(RateLimitError);
    await engine.run({ horizon: 5_999 });
    expect(t.active()).toBe(true);
    expect(notified).toBe(0);
    await engine.run({ horizon: 6_000 });
    expect(t.error()).toBeNull();
    expect(notified).toBe(1);
  });
});
