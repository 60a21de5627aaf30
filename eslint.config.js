// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** SDKs and frameworks that only the outer folders may import (docs/architecture.md: the layers). */
const SDKS = ['botbuilder', 'botbuilder-*', 'botframework-*', 'restify', 'twilio', 'twilio/*', '@azure/*', 'better-sqlite3', 'pg', 'pino', 'jose'];
const BOT_FRAMEWORK = ['botbuilder', 'botbuilder-*', 'botframework-*'];
const BOT_FRAMEWORK_MESSAGE = 'Only src/channels/teams/ imports the Bot Framework SDK: moving to another Teams SDK must mean rewriting that one folder.';

/** A `no-restricted-imports` rule forbidding these packages and folders. */
function fence(packages, folders, message) {
  return [
    'error',
    {
      patterns: [
        ...(packages.length > 0 ? [{ group: packages, message }] : []),
        ...(folders.length > 0 ? [{ group: folders.map((f) => `**/${f}/**`), message }] : []),
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
      // Typed linting: rules below read the types (tsconfig.json for src, test and tools).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Empty catches hide failures (DESIGN.md: habits of the house).
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only main.ts reads the environment.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only src/main.ts reads process.env.' }],
      // Every switch over a union names every member: a new outcome or action kind fails the lint
      // until each renderer handles it (a `default` does not count).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: false }],
      // A promise nobody awaits loses its errors.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      // Outside the Teams channel, nothing imports the Bot Framework SDK.
      'no-restricted-imports': fence(BOT_FRAMEWORK, [], BOT_FRAMEWORK_MESSAGE),
    },
  },
  {
    // The app (core) is transport-free: no SDK, no provider, no channel, no HTTP, no store, no config.
    files: ['src/app/**'],
    rules: {
      'no-restricted-imports': fence(
        SDKS,
        ['channels', 'providers', 'http', 'store', 'config', 'tools'],
        'src/app is transport-free: it imports no SDK, provider, channel, HTTP, store or config code (docs/architecture.md). Add a port in src/app/ports instead.',
      ),
    },
  },
  {
    // Providers talk to their vendor; they know no channel and no other provider's internals.
    files: ['src/providers/**'],
    rules: { 'no-restricted-imports': fence(BOT_FRAMEWORK, ['channels', 'store'], `Providers import no channel and no store implementation (use the ports). ${BOT_FRAMEWORK_MESSAGE}`) },
  },
  {
    // Channels turn requests into commands; they know no provider and no store implementation.
    files: ['src/channels/webhook/**'],
    rules: { 'no-restricted-imports': fence(BOT_FRAMEWORK, ['providers', 'store'], `Channels import no provider and no store implementation (main.ts injects them). ${BOT_FRAMEWORK_MESSAGE}`) },
  },
  {
    files: ['src/channels/teams/**'],
    rules: { 'no-restricted-imports': fence([], ['providers', 'store'], 'Channels import no provider and no store implementation (main.ts injects them).') },
  },
  {
    // The store implements the store ports; it knows nothing of channels, providers or HTTP.
    files: ['src/store/**'],
    rules: { 'no-restricted-imports': fence(BOT_FRAMEWORK, ['channels', 'providers', 'http'], `The store knows no channel, provider or HTTP code. ${BOT_FRAMEWORK_MESSAGE}`) },
  },
  {
    // The service never reaches into the sandbox or the tests.
    files: ['src/**'],
    ignores: ['src/app/**', 'src/providers/**', 'src/channels/**', 'src/store/**'],
    rules: { 'no-restricted-imports': fence(BOT_FRAMEWORK, ['tools', 'test'], `The service imports nothing from tools/ or test/. ${BOT_FRAMEWORK_MESSAGE}`) },
  },
  {
    // Tests and tools may drive the Bot Framework SDK (they play Teams' side).
    files: ['test/**', 'tools/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Plain JavaScript (scripts, this file) is not part of a TypeScript project.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Entry points read the environment: the service, the sandbox's launcher and the bench.
    files: ['src/main.ts', 'tools/sandbox/playground.ts', 'tools/bench/bench.ts', 'test/**', 'vitest.config.ts', 'scripts/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
