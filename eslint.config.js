/**
 * `npm run lint`: ESLint's and typescript-eslint's recommended rules (not the type-aware ones), and
 * the layer rules that keep Netloom's seams where DESIGN.md draws them:
 *
 *   renderer/         imports from engine/ only the contract (engine/contract/); never native/ or electron/
 *   engine/           never imports renderer/ or electron/, nor react or electron
 *   engine/graph/     never imports engine/train/ (training settings belong to the contract)
 *   engine/contract/  imports only zod and itself: both sides of the seam load it
 *   everywhere        no import cycles
 *
 * test/unit/lint-rules.test.ts checks that each of these rules reports a violation.
 * The plugins come from tools/eslint (tools/eslint/index.js says why they live there).
 */
import { defineConfig } from 'eslint/config';
import { createNodeResolver, globals, importX, js, reactHooks, tseslint } from '@netloom/eslint-kit';

const TS_FILES = ['**/*.ts', '**/*.tsx', '**/*.cts', '**/*.mts'];

/** An import-x zone: files in `target` may not import files in `from` (except `except`, relative to `from`). */
const zone = (target, from, message, except) => ({ target, from, message, ...(except ? { except } : {}) });

export default defineConfig(
  {
    ignores: [
      'dist/**', 'build/**', 'release/**', 'reports/**', 'test-results/**', '.stryker-tmp/**', 'assets/datasets/**', '**/node_modules/**',
      // files written to break the rules, linted one by one by test/unit/lint-rules.test.ts
      'test/unit/fixtures/lint/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { 'import-x': importX },
    settings: {
      // import-x reads the imported files too (no-cycle follows them): TypeScript ones with typescript-eslint's parser
      'import-x/extensions': ['.ts', '.tsx', '.cts', '.mts', '.js', '.jsx', '.mjs', '.cjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx', '.cts', '.mts'] },
      // engine/ imports './x.js' for './x.ts' (nodenext); renderer/ and the tests leave the extension out (bundler)
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.tsx', '.cts', '.mts', '.js', '.mjs', '.cjs', '.json', '.node'], extensionAlias: { '.js': ['.ts', '.tsx', '.js'] } }),
      ],
    },
    rules: {
      // an unused variable named _x is deliberate (a callback's unused parameter, a rest-omit)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            zone('./renderer', './engine', 'The renderer talks to the engine only through the contract (engine/contract/): put what it needs there.', [
              './contract',
            ]),
            zone('./renderer', './native', 'The renderer never loads the native engine: it reaches it through the EngineApi (engine/contract/).'),
            zone('./renderer', './electron', 'The renderer runs in a browser too: the desktop shell is reached through the EngineApi, not imported.'),
            zone('./engine', './renderer', 'The engine runs without a UI (the CLI, netloom serve): move what both need into engine/contract/.'),
            zone('./engine', './electron', 'The engine runs outside Electron (the CLI, netloom serve): pass what it needs in from electron/.'),
            zone('./engine/graph', './engine/train', 'The graph layer sits below training: move what both need (settings, schedules) into engine/contract/.'),
            // packages are no-restricted-imports' (below): zod is the one allowed
            zone('./engine/contract', '.', 'engine/contract/ imports only zod and itself: both the renderer and the engine load it.', ['./engine/contract', './node_modules']),
          ],
        },
      ],
    },
  },
  {
    files: TS_FILES,
    // TypeScript checks these itself, better (and no-undef knows no type-only globals)
    rules: { 'no-undef': 'off', 'no-redeclare': 'off' },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    // the two classic hook rules; the React Compiler's rules (the plugin's recommended set) assume code written for it
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    // a sandboxed preload is a plain CommonJS script: its one require() is explained there
    files: ['electron/preload.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**'],
    // tests read the API's replies as untyped JSON, and hand it malformed values on purpose
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Playwright reads a fixture's dependencies from its first parameter's pattern: `{}` says none
    files: ['test/e2e/**'],
    rules: { 'no-empty-pattern': 'off' },
  },
  {
    files: ['engine/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'react', message: 'The engine has no UI: React belongs to renderer/.' },
            { name: 'react-dom', message: 'The engine has no UI: React belongs to renderer/.' },
            { name: 'electron', message: 'The engine runs outside Electron (the CLI, netloom serve): pass what it needs in from electron/.' },
          ],
          patterns: [{ group: ['react/*', 'react-dom/*', 'electron/*'], message: 'The engine has no UI and runs outside Electron: this belongs to renderer/ or electron/.' }],
        },
      ],
    },
  },
  {
    files: ['engine/contract/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          // relative imports are checked by no-restricted-paths (they must stay inside engine/contract/)
          patterns: [{ regex: '^(?!zod(/|$)|\\.)', message: 'engine/contract/ imports only zod and itself: both the renderer and the engine load it.' }],
        },
      ],
    },
  },
);
