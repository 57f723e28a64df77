// Lint rules that catch what the type checker does not: promises nobody awaits (a rejected one
// crashes the process or leaks a response), async functions where callbacks expect void, and
// type-only imports kept out of the emitted JavaScript. Run by `npm test` (`npm run lint`).
import tseslint from 'typescript-eslint';

// The layer rules of docs/architecture.md, mirrored for the editor (test/architecture is the
// judge): each block forbids the relative imports that would leave a floor upward or reach into
// another capability's internals. Regexes match the import string as written.
const IMPURE = [
  'express',
  'pino',
  'better-sqlite3',
  'swagger-ui-express',
  'node:fs',
  'node:fs/promises',
  'node:http',
  'node:https',
  'node:child_process',
  'node:worker_threads',
];
const up = (depth) => '\\.\\./'.repeat(depth);
const rule = (patterns, paths = []) => ({ 'no-restricted-imports': ['error', { paths, patterns }] });
const layerBlocks = [
  // src/lib: pure; its files sit 1-3 folders below src
  ...[1, 2, 3].map((depth) => ({
    files: [`src/lib/${'*/'.repeat(depth - 1)}*.ts`],
    rules: rule(
      [
        { regex: `^${up(depth)}(?!lib/)`, message: 'src/lib imports only src/lib (imports point down)' },
        { regex: '^@prisma/', message: 'src/lib is pure: no database' },
      ],
      IMPURE.map((name) => ({ name, message: 'src/lib is pure: no I/O packages' })),
    ),
  })),
  ...[1, 2].map((depth) => ({
    files: [`src/platform/${'*/'.repeat(depth - 1)}*.ts`],
    rules: rule([{ regex: `^${up(depth)}(?!lib/|platform/|generated/)`, message: 'src/platform imports only src/lib and src/platform' }]),
  })),
  {
    files: ['src/simulator/*.ts'],
    rules: rule([{ regex: '^\\.\\./(?!lib/|platform/cli/)', message: 'the simulator imports src/lib (and the CLI kit) only' }]),
  },
  {
    files: ['src/*/*.ts'],
    ignores: ['src/lib/**', 'src/platform/**', 'src/app/**', 'src/simulator/**', 'src/generated/**'],
    rules: rule([
      { regex: '^\\.\\./(app|simulator)/', message: 'a capability may not import src/app or the simulator' },
      {
        regex: '^\\.\\./(?!lib/|platform/|generated/)[^/]+/(?!index\\.js$)',
        message: 'import another capability through its index.ts only',
      },
    ]),
  },
];

export default tseslint.config(
  { ignores: ['src/generated/**', 'dist/**', 'node_modules/**', '.tmp/**', 'test/fixtures/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // A leading underscore names what is left out on purpose (destructuring a field away).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // The route table erases its handlers' generic types on purpose (RouteSpec<any, any, any>).
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  ...layerBlocks,
);
