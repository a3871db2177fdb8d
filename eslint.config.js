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
  { files: ['src/consensus/**/*.ts', 'src/app/**/*.ts', 'src/modules/**/*.ts'], ignores: ['src/modules/*/cli.ts', 'src/modules/**/cli/**', 'src/consensus/wal.ts'], rules: determinism },
);
