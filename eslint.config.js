// Lint rules that catch defects (unhandled promises, unused values, unsafe `any`, loose equality, switch
// fallthrough), not style: formatting is left to each editor. Type-aware, through the project's tsconfig.json.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const defects = {
  eqeqeq: ['error', 'always', { null: 'ignore' }],
  'no-fallthrough': 'error',
  'no-constant-condition': ['error', { checkLoops: 'allExceptWhileTrue' }],
  'prefer-const': 'error',
};

const unusedVars = ['error', {
  args: 'after-used',
  argsIgnorePattern: '^_',
  varsIgnorePattern: '^_',
  caughtErrors: 'none',
  destructuredArrayIgnorePattern: '^_',
  ignoreRestSiblings: true,
}];

// Globals of plain JavaScript files, listed here rather than through another dependency.
const readonly = (names) => Object.fromEntries(names.split(/\s+/).filter(Boolean).map((n) => [n, 'readonly']));
const commonGlobals = `console setTimeout clearTimeout setInterval clearInterval queueMicrotask structuredClone
  URL URLSearchParams TextEncoder TextDecoder AbortController AbortSignal Blob fetch performance`;
const browserGlobals = readonly(`${commonGlobals} window document navigator location localStorage Node Element
  HTMLElement HTMLCanvasElement HTMLImageElement HTMLInputElement Image ImageData ImageBitmap createImageBitmap
  OffscreenCanvas FormData File FileReader Event CustomEvent requestAnimationFrame cancelAnimationFrame
  ResizeObserver IntersectionObserver getComputedStyle`);
const nodeGlobals = readonly(`${commonGlobals} process Buffer global globalThis setImmediate clearImmediate`);

// TensorFlow.js only through one module (src/tfjs/index.ts; the pages' reports/components/tf.js): it adds what the
// scoped packages lack on their own in Node (the chained tensor methods), and `@tensorflow/tfjs`, the union
// package, is not installed. The wasm backend's own package stays importable (backend selection, its types).
const tfjsOnlyThroughOneModule = {
  patterns: [{
    regex: '^@tensorflow/tfjs(-core|-layers|-converter|-backend-cpu|-backend-webgl|-data)?(/.*)?$',
    message: 'import TensorFlow.js from src/tfjs/index.ts (in the pages: ./tf.js)',
  }],
};

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'data/', 'test-output/', 'reports/.observablehq/', 'notebooks/'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', '*.config.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      ...defects,
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': unusedVars,
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // The rest of no-unsafe-* (member access, assignment, argument) comes with recommendedTypeChecked.
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      // A rejection with a caught value passes the original error on; only literals and the like are reported.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
      'require-await': 'off',
      '@typescript-eslint/require-await': 'off',
      // Taste, not defects: `any` where a type says nothing better, `{}` types, `'cpu' | string` hints,
      // non-string values in template literals (objects are still reported by no-base-to-string).
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-empty-object-type': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    // Tests read JSON answers as `any` on purpose; calling or returning one is still reported.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // Plain JavaScript: the report site's browser components, the CLI launcher, the worker bootstrap.
    files: ['reports/components/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: browserGlobals },
    rules: { ...defects, 'no-unused-vars': unusedVars },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['src/tfjs/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', tfjsOnlyThroughOneModule] },
  },
  {
    files: ['reports/components/*.js'],
    ignores: ['reports/components/tf.js'],
    rules: { 'no-restricted-imports': ['error', tfjsOnlyThroughOneModule] },
  },
  {
    files: ['bin/*.js', 'src/**/*.mjs', 'eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: nodeGlobals },
    rules: { ...defects, 'no-unused-vars': unusedVars },
  },
);
