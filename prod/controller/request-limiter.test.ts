import { describe, it, expect } from 'vitest';
import { EventEngine } from '../../sim/engine/event-engine.js';
import { QUIET_PERIOD_MS, RequestLimiter } from './request-limiter.js';

async function started(l: RequestLimiter, n: number): Promise<number> {
  let count = 0;
  for (let i = 0; i < n; i++) void l.acquire().then(() => count++);
  await new Promise((r) => setImmediate(r));
  return count;
}

describe('RequestLimiter', () => {
  it('starts at 8 requests and queues the rest', async () => {
    const l = new RequestLimiter(new EventEngine(), 16);
    expect(await started(l, 10)).toBe(8);
    l.release(200);
    await new Promise((r) => setImmediate(r));
    expect(l.inFlight).toBe(9);
  });

  it('raises the limit on success, capped at twice in flight and the max', async () => {
    const l = new RequestLimiter(new EventEngine(), 10);
    await started(l, 8);
    l.release(200); // 8 in flight when judged: 8 + 1 = 9 <= 16, <= 10
    expect(l.currentLimit).toBe(9);
    l.release(200);
    expect(l.currentLimit).toBe(10);
    for (let i = 0; i < 5; i++) l.release(200);
    // one in flight when judged: capped at 2
    l.release(200);
    expect(l.currentLimit).toBe(2);
  });

  it('halves on 503 once per quiet period and holds new requests back', async () => {
    const clock = new EventEngine();
    const l = new RequestLimiter(clock, 16);
    await started(l, 3);
    l.release(503);
    expect(l.currentLimit).toBe(4);
    l.release(503);
    expect(l.currentLimit).toBe(4);
    let late = false;
    void l.acquire().then(() => (late = true));
    await new Promise((r) => setImmediate(r));
    expect(late).toBe(false);
    await clock.run();
    expect(clock.now()).toBe(QUIET_PERIOD_MS);
    expect(late).toBe(true);
    l.release(503);
    expect(l.currentLimit).toBe(2);
  });
});
