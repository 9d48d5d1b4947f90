// @ts-check
// ESLint flat config: typescript-eslint's type-aware recommended rules over the whole repository (src/, test/,
// bench/, scripts/, packages/ and this file); formatting is Prettier's (`npm run format`), not ESLint's.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The rules about values typed `any`: off where `any` is the honest type (untyped JavaScript, test replies). */
const anyIsFine = {
  '@typescript-eslint/no-explicit-any': 'off',
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
};

export default defineConfig(
  globalIgnores(['**/node_modules/', 'dist/', 'coverage/', '.tap/', 'generated/', 'packages/*/dist/', 'packages/*/schemas/', 'packages/*/generated/']),

  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,

  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
      parserOptions: {
        // Every .ts file is in tsconfig.json. The JavaScript files (this config, the contracts build, the tap
        // reporter) are in no tsconfig and get the project service's default program.
        projectService: { allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.mjs', 'packages/*/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'all',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: true }],
      // Not enabled: @typescript-eslint/no-unnecessary-condition. It cannot see flags that callbacks flip across an
      // await (`stopping`, `signal.aborted`), so most of what it reports here is wrong.
    },
  },

  {
    files: ['**/*.js', '**/*.mjs'],
    rules: anyIsFine,
  },

  {
    // Tests and benchmarks read NATS replies, pg rows and fixtures as `any` on purpose, and tap callbacks are async
    // by convention; the promise, unused-code and exhaustiveness rules still apply.
    files: ['test/**', 'bench/**'],
    rules: {
      ...anyIsFine,
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        // tap queues t.test() subtests itself; awaiting them is optional.
        { allowForKnownSafeCalls: [{ from: 'package', package: '@tapjs/test', name: ['test', 'only', 'skip', 'todo'] }] },
      ],
    },
  },

  // Turns off every ESLint rule that would fight Prettier; keep it last.
  prettier,
);
