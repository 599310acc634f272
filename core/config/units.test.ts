import { describe, expect, it } from 'vitest';
import {
  UnitError,
  formatByteSize,
  formatDuration,
  formatGoDurationNs,
  isUnitlessByteSizeString,
  parseByteSize,
  parseDuration,
  parseGoDurationNs,
} from './units.js';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['1m', 60_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['2h45m30.5s', 9_930_500],
    ['1us', 0.001],
    ['1µs', 0.001],
    ['1μs', 0.001],
    ['1500ns', 0.0015],
    ['0s', 0],
    ['0', 0],
    ['+0', 0],
    ['-0', 0],
    ['+5s', 5000],
    ['-1m', -60_000],
    ['0.1s', 100],
    ['1h0m0s', 3_600_000],
  ])('reads %s as %s ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it('accepts the bare number 0', () => {
    expect(parseDuration(0)).toBe(0);
  });

  it.each([[10], [1.5], [-1]])('rejects the bare number %s (missing unit)', (n) => {
    expect(() => parseDuration(n)).toThrow(/missing unit in duration/);
  });

  it.each([
    ['10', /missing unit/],
    ['1h30', /missing unit/],
    ['', /invalid duration/],
    ['s', /invalid duration/],
    ['.s', /invalid duration/],
    ['-', /invalid duration/],
    ['1d', /unknown unit "d"/],
    ['1S', /unknown unit "S"/],
    ['1 s', /unknown unit " s"/],
    ['10 s', /unknown unit/],
    ['1e3s', /unknown unit "e"/],
    ['3000000h', /invalid duration/],
  ])('rejects %j', (text, re) => {
    expect(() => parseDuration(text)).toThrow(UnitError);
    expect(() => parseDuration(text)).toThrow(re);
  });

  it('keeps nanoseconds exact, as Go does', () => {
    expect(parseGoDurationNs('1h2m3.000000004s')).toBe(3_723_000_000_004n);
    expect(parseGoDurationNs('2562047h')).toBe(9_223_369_200_000_000_000n);
    expect(() => parseGoDurationNs('2562048h')).toThrow(/invalid duration/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [60_000, '1m'],
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [90_000, '1m30s'],
    [10_000, '10s'],
    [300, '300ms'],
    [1500, '1.5s'],
    [86_400_000, '24h'],
    [3_605_000, '1h5s'], // Arvados' String() drops the "0m" too
    [60_500, '1m0.5s'],
    [0.0015, '1.5µs'],
    [0.000002, '2ns'],
    [-60_000, '-1m'],
  ])('formats %s ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 1000, 59_999, 61_000, 3_599_999, 3_600_001, 7 * 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });

  it('formats like Go time.Duration.String before the clean-up', () => {
    expect(formatGoDurationNs(3_600_000_000_000n)).toBe('1h0m0s');
    expect(formatGoDurationNs(1_000_000n)).toBe('1ms');
  });
});

describe('parseByteSize', () => {
  it.each([
    [0, 0],
    [1024, 1024],
    ['1024B', 1024],
    ['1K', 1000],
    ['1KB', 1000],
    ['1Ki', 1024],
    ['1KiB', 1024],
    ['550MiB', 550 * 2 ** 20],
    ['8GiB', 8 * 2 ** 30],
    ['100GB', 100e9],
    ['16G', 16e9],
    ['2T', 2e12],
    ['1Ti', 2 ** 40],
    ['1P', 1e15],
    ['1.5GiB', 1_610_612_736],
    ['1.5 GiB', 1_610_612_736],
    ['  2 MiB  ', 2 * 2 ** 20],
    ['0.1KB', 100],
    ['0.0005K', 0], // truncated toward zero, as Go converts float to int64
    ['2e3KiB', 2_048_000],
    ['1e3', 1000],
    ['0', 0],
    ['1024', 1024],
  ])('reads %j as %s bytes', (v, bytes) => {
    expect(parseByteSize(v)).toBe(bytes);
  });

  it.each([
    ['1gib', /invalid unit "gib"/],
    ['1kB', /invalid unit "kB"/],
    ['1Mb', /invalid unit "Mb"/],
    ['1XiB', /invalid unit/],
    ['GiB', /invalid byte size/],
    ['', /invalid byte size/],
    ['1.2.3GiB', /invalid byte size/],
    ['+1GiB', /invalid byte size/],
    ['-1GiB', /negative/],
    ['8EiB', /too large/],
    ['1E', /too large/],
    ['10PiB', /too large/],
  ])('rejects %j', (v, re) => {
    expect(() => parseByteSize(v)).toThrow(UnitError);
    expect(() => parseByteSize(v)).toThrow(re);
  });

  it.each([[1.5], [-1], [2 ** 60], [NaN]])('rejects the number %s (bytes are whole, non-negative, safe)', (n) => {
    expect(() => parseByteSize(n)).toThrow(/invalid byte size/);
  });

  it('recognises the quoted-number-without-unit quirk', () => {
    expect(isUnitlessByteSizeString('1024')).toBe(true);
    expect(isUnitlessByteSizeString('1.5e3')).toBe(true);
    expect(isUnitlessByteSizeString('1024B')).toBe(false);
    expect(isUnitlessByteSizeString('1E')).toBe(false);
    expect(isUnitlessByteSizeString(1024)).toBe(false);
  });
});

describe('formatByteSize', () => {
  it.each([
    [0, '0'],
    [1024, '1KiB'],
    [8 * 2 ** 30, '8GiB'],
    [550 * 2 ** 20, '550MiB'],
    [1000, '1000'],
  ])('formats %s as %s', (n, s) => {
    expect(formatByteSize(n)).toBe(s);
    expect(parseByteSize(s)).toBe(n);
  });
});
