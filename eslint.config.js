// Lint: TypeScript recommended rules everywhere, plus determinism rules for ledger-state code
// (consensus, app host, modules): no wall clock, randomness, floats, environment or float division.
import tseslint from 'typescript-eslint';

const determinism = {
  'no-restricted-globals': [
    'error',
    { name: 'Date', message: 'Ledger code must not read the wall clock; use the block time from the context.' },
    { name: 'performance', message: 'Ledger code must not read clocks.' },
    { name: 'setTimeout', message: 'Ledger code must not schedule work; the driver does I/O and timers.' },
    { name: 'setInterval', message: 'Ledger code must not schedule work.' },
    { name: 'process', message: 'Ledger code must not read the environment.' },
    { name: 'parseFloat', message: 'No floats in ledger state.' },
    { name: 'crypto', message: 'No randomness in ledger code.' },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Math', property: 'random', message: 'No randomness in ledger code.' },
    { object: 'Number', property: 'parseFloat', message: 'No floats in ledger state.' },
    { object: 'Math', property: 'round', message: 'Rounding of floats is not allowed; use the integer helpers in src/util/int.ts.' },
    { object: 'Math', property: 'sqrt', message: 'No floats in ledger state.' },
    { object: 'Math', property: 'pow', message: 'No floats in ledger state; use ** on bigint.' },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "Literal[raw=/^[0-9]*\\.[0-9]+|^[0-9]+\\.[0-9]*$|[0-9]e-/]", message: 'No float literals in ledger code.' },
    { selector: "BinaryExpression[operator='/']", message: 'No "/" in ledger code: use floorDiv/ceilDiv (src/util/int.ts) or bigint division.' },
    { selector: "AssignmentExpression[operator='/=']", message: 'No "/=" in ledger code.' },
    { selector: 'ForInStatement', message: 'for…in iterates in an order that is easy to get wrong; use Object.keys(...).sort().' },
    { selector: "CallExpression[callee.property.name='toFixed']", message: 'No float formatting in ledger code.' },
    { selector: "ImportDeclaration[source.value=/^node:(fs|net|http|https|os|child_process|worker_threads)$/]", message: 'Ledger code does no I/O.' },
  ],
};

// Layering (ARCHITECTURE.md "Direction of dependencies"): what each folder of src/ may import.
// A folder may always import its own files; anything not listed here is refused by the lint.
const LAYERS = {
  util: [],
  crypto: ['util'],
  codec: ['util', 'crypto'],
  app: ['util', 'crypto', 'codec'],
  store: ['util', 'codec', 'app'],
  consensus: ['util', 'crypto', 'codec'],
  mempool: ['util', 'codec'],
  p2p: ['util', 'crypto'],
  sync: ['util', 'codec'],
  bitcoin: ['util', 'crypto'],
  zk: ['util', 'crypto'],
  messaging: ['util', 'crypto', 'api'],
  home: ['util', 'crypto', 'app'],
  api: ['util', 'codec'],
  surface: ['util', 'app', 'api'],
  ledger: ['util', 'crypto', 'codec', 'app', 'store', 'consensus', 'mempool', 'sync', 'home'],
  edge: ['util', 'crypto', 'codec', 'api', 'home', 'cli', 'modules', 'zk'],
  light: ['util', 'crypto', 'codec', 'app', 'consensus', 'api', 'surface'],
  indexer: ['util', 'crypto', 'codec', 'app', 'consensus', 'api', 'surface', 'light'],
  runtime: ['util', 'crypto', 'codec', 'app', 'store', 'consensus', 'mempool', 'p2p', 'sync', 'home', 'ledger', 'api', 'surface', 'modules', 'bitcoin', 'zk', 'messaging'],
  cli: ['util', 'crypto', 'codec', 'app', 'store', 'consensus', 'mempool', 'p2p', 'sync', 'home', 'ledger', 'api', 'surface', 'modules', 'runtime', 'edge', 'bitcoin', 'zk', 'light', 'messaging', 'indexer'],
};
const FOLDERS = [...Object.keys(LAYERS), 'modules'];
const others = (allowed, self) => FOLDERS.filter((f) => f !== self && !allowed.includes(f));
const forbid = (folders, why) => ({ regex: `^(\\.\\./)+(${folders.join('|')})/`, message: why });

/** Module cores: the ledger core layers plus other modules' keepers (their public API) only. */
const MODULE_CORE_LAYERS = ['util', 'crypto', 'codec', 'app', 'bitcoin', 'zk'];
/** Module surfaces may add the API route definitions, the CLI kit and the surface contract, and other modules' route definitions. */
const MODULE_SURFACE_LAYERS = [...MODULE_CORE_LAYERS, 'api', 'cli', 'surface'];
const moduleRules = (layers, publicFiles, depth) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        forbid(others(layers, 'modules').filter((f) => f !== 'modules'), `a module ${depth === 2 ? 'core' : 'surface'} may import only ${layers.join(', ')} (ARCHITECTURE.md)`),
        {
          regex: `^${'\\.\\./'.repeat(depth - 1)}(?!\\.\\.)[a-z0-9-]+/(?!(${publicFiles.join('|')})\\.js$)`,
          message: `modules use each other only through ${publicFiles.map((f) => `${f}.ts`).join(' / ')} (their public API), never their internals`,
        },
      ],
    },
  ],
});
const SURFACE_FILES = ['surface', 'routes', 'queries', 'cli', 'index'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/dist/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['src/consensus/**/*.ts', 'src/app/**/*.ts', 'src/modules/**/*.ts'], ignores: ['src/modules/*/cli.ts', 'src/modules/**/cli/**'], rules: determinism },
  ...Object.entries(LAYERS).map(([layer, allowed]) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [forbid(others(allowed, layer), `src/${layer} may import only ${allowed.join(', ') || 'nothing of src'} (ARCHITECTURE.md)`)] }] },
  })),
  { files: ['src/modules/*/*.ts'], rules: moduleRules(MODULE_CORE_LAYERS, ['keeper'], 2) },
  { files: SURFACE_FILES.map((f) => `src/modules/*/${f}.ts`), rules: moduleRules(MODULE_SURFACE_LAYERS, ['keeper', 'routes'], 2) },
  { files: ['src/modules/*/*/**/*.ts'], rules: moduleRules(MODULE_SURFACE_LAYERS, ['keeper', 'routes'], 3) },
  {
    files: ['sim/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [forbid(others(['util', 'crypto', 'codec', 'consensus', 'sync', 'runtime'], ''), 'the simulator runs consensus, block sync and the driver only')] }] },
  },
);
