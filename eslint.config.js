// Lint: typescript-eslint's recommended rules over the whole tree (`npm run lint`, part of `npm test`).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'reports/**', 'bin/prebuilt*.js', '**/dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_name` marks a value taken apart on purpose (rest destructuring, an unused parameter of an interface).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Tests and benchmarks read the routers' own JSON (vtysh, gobgp -j, birdc), whose shapes we do not model.
    files: ['**/*.test.ts', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
