// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
    rules: {
      // Empty catches hide failures (DESIGN.md: habits of the house).
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only main.ts reads the environment.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only src/main.ts reads process.env.' }],
    },
  },
  {
    // Entry points read the environment: the service, and the sandbox's launcher.
    files: ['src/main.ts', 'tools/sandbox/playground.ts', 'test/**', 'vitest.config.ts', 'scripts/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
