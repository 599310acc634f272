import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{core,sim,prod,cli,reports,bench,test}/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    setupFiles: ['test/setup/fast-check.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
