/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests', '<rootDir>/packages/prisma-migrate-kit/src'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // Backfill files and scripts import the package by its own name, exactly as a user's project does.
  moduleNameMapper: { '^prisma-migrate-kit$': '<rootDir>/packages/prisma-migrate-kit/src/index.ts' },
  testTimeout: 60_000,
  // Two cores: each test file has its own database, and many of them start child processes.
  maxWorkers: 2,
}
