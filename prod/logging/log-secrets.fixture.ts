// Shared by the logging tests: secrets that must never reach a line, and a clock whose
// time never moves, so that log lines can be compared whole.
import type { Clock } from '../../core/ports/clock.js';

export const TOKEN = 'xyzzy3management7token9abcdefghijklmnop';
export const ROOT = 'systemroot0token1with2many3characters4';

export const fixedClock: Clock = {
  now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  setTimer: () => ({ cancel() {} }),
  sleep: () => Promise.resolve(),
};
