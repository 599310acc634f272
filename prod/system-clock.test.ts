import { describe, it, expect } from 'vitest';
import { SystemClock } from './system-clock.js';

describe('SystemClock', () => {
  it('reads real time and never goes backwards', () => {
    const clock = new SystemClock();
    const a = clock.now();
    const b = clock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(a - Date.now())).toBeLessThan(60_000);
  });

  it('fires timers once, in time order, and not when cancelled', async () => {
    const clock = new SystemClock();
    const log: string[] = [];
    clock.setTimer(-5, () => log.push('now'));
    clock.setTimer(6, () => log.push('b'));
    clock.setTimer(1, () => log.push('a'));
    const c = clock.setTimer(2, () => log.push('cancelled'));
    c.cancel();
    c.cancel();
    await clock.sleep(20);
    expect(log).toEqual(['now', 'a', 'b']);
  });

  it('sleep rejects with the abort reason and cancels its timer', async () => {
    const clock = new SystemClock({ unref: true });
    const ac = new AbortController();
    const p = clock.sleep(60_000, ac.signal);
    ac.abort(new Error('shutting down'));
    await expect(p).rejects.toThrow('shutting down');
    await expect(clock.sleep(5, AbortSignal.abort('early'))).rejects.toBe('early');
  });

  it('a timer with an infinite delay never fires and cancels quietly', async () => {
    const clock = new SystemClock();
    let fired = false;
    clock.setTimer(Infinity, () => (fired = true)).cancel();
    await clock.sleep(2);
    expect(fired).toBe(false);
  });
});
