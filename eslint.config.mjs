// ESLint: typescript-eslint's recommended type-checked rules over the package, the tests, the scripts and the example
// app. `npm test` runs it (npm run lint), with Prettier's check.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'prisma/generated/**', '.migrate-kit/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_name` says "deliberately unused": a destructured field left out, a parameter a signature requires.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Jest's asymmetric matchers (expect.any(…), expect.stringContaining(…)) are typed `any`, and so is every JSON
    // document a test parses from a command's output: the assertions are what check them.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      // Tests load what the installed Prisma resolves (its engines' version, get-platform) by path, at run time.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Plain JavaScript (bin, config files, scripts) is not part of the TypeScript program.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
)
