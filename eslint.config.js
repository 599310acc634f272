// Lint with type information. Two rules carry the architecture:
// - a daemon must never drop a promise (no-floating-promises, no-misused-promises);
// - core/ talks to the world only through its ports (no prod/, sim/, ssh2, @aws-sdk,
//   Node timers, Date.now, Math.random or global timers).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/prod/**', '**/sim/**', '**/cli/**'], message: 'core/ may not import prod/, sim/ or cli/: use a port.' },
            { group: ['ssh2', 'ssh2/*', '@aws-sdk/*', 'pg', 'pino', 'prom-client'], message: 'core/ may not import adapters: use a port.' },
            { group: ['node:timers', 'node:timers/*', 'timers', 'timers/*'], message: 'core/ gets time from the Clock port.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'core/ gets time from the Clock port.' },
        { name: 'setInterval', message: 'core/ gets time from the Clock port.' },
        { name: 'setImmediate', message: 'core/ gets time from the Clock port.' },
        { name: 'clearTimeout', message: 'core/ gets time from the Clock port.' },
        { name: 'clearInterval', message: 'core/ gets time from the Clock port.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'core/ gets time from the Clock port.' },
        { object: 'Math', property: 'random', message: 'core/ gets randomness from the Rng port.' },
        { object: 'performance', property: 'now', message: 'core/ gets time from the Clock port.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'core/ gets time from the Clock port.' },
      ],
    },
  },
);
