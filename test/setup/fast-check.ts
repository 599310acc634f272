import fc from 'fast-check';

/**
 * Every property test runs from a fixed seed, so `npm test` is deterministic: a property that
 * fails, fails on every run, and fast-check prints the seed and path to replay it. Explore
 * other seeds by hand with `FC_SEED=<integer> npx vitest run <file>`; a property's own
 * `seed` option still wins.
 */
const raw = process.env['FC_SEED'];
const seed = raw === undefined || raw === '' ? 20261204 : Number(raw);
if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(raw)}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
