// Lint exists for one rule the type checker cannot see: time and randomness go through the
// injectable Clock (src/core/clock.ts), so timer logic is tested on fake time (specs/kit.md).
import tseslint from 'typescript-eslint';

const clockOnly = 'goes through the injectable Clock (src/core/clock.ts): ctx.clock / this.clock';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**'] },
  {
    files: ['src/**/*.ts'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: `A timer ${clockOnly}.` },
        { name: 'setInterval', message: `A timer ${clockOnly}.` },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='Date'][property.name='now']", message: `The time ${clockOnly}.now().` },
        { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'Randomness is injected (default systemRandom from src/core/clock.ts), so tests pin it.' },
        { selector: "MemberExpression[object.name='globalThis'][property.name=/^(setTimeout|setInterval)$/]", message: `A timer ${clockOnly}.` },
      ],
    },
  },
  {
    // The clock module is where real time lives; simulators are the outside world (real time on
    // purpose); the command-line shells, API and benchmark measure wall time for people.
    files: [
      'src/core/clock.ts',
      'src/brokers/*/sim/**',
      'src/brokers/ibkr/sim/**',
      'src/brokers/simbook.ts',
      'src/cli/**',
      'src/api/**',
      'src/bench/**',
    ],
    rules: { 'no-restricted-globals': 'off', 'no-restricted-syntax': 'off' },
  },
);
