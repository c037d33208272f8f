import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

export type PackageManager = 'npm' | 'pnpm' | 'yarn'

export interface WorkflowOptions {
  packageManager: PackageManager
  /** The project's folder relative to the repository root ('' or '.' when they are the same). */
  workingDirectory: string
  /** The variable the project's Prisma config reads for the database URL. */
  urlVariable: string
}

const LOCKFILES: Array<[string, PackageManager]> = [
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
]

/** The repository a project lives in: the nearest folder above it with .git (undefined outside git). */
export function repositoryRoot(projectRoot: string): string | undefined {
  for (let dir = path.resolve(projectRoot); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return dir
    if (path.dirname(dir) === dir) return undefined
  }
}

/** The package manager whose lockfile is nearest, from the project up to the repository root; npm without one. */
export function detectPackageManager(projectRoot: string, repoRoot: string = projectRoot): { manager: PackageManager; lockfile?: string } {
  for (let dir = path.resolve(projectRoot); ; dir = path.dirname(dir)) {
    for (const [name, manager] of LOCKFILES) if (existsSync(path.join(dir, name))) return { manager, lockfile: path.join(dir, name) }
    if (dir === path.resolve(repoRoot) || path.dirname(dir) === dir) return { manager: 'npm' }
  }
}

/** A workflow in the folder that already runs migrate-kit (so init does not add a second one). */
export function workflowRunningMigrateKit(workflowsDir: string): string | undefined {
  if (!existsSync(workflowsDir)) return undefined
  return readdirSync(workflowsDir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(workflowsDir, name))
    .find((file) => /\bmigrate-kit\b/.test(readFileSync(file, 'utf8')))
}

const INSTALL: Record<PackageManager, { setup: string[]; install: string; exec: string }> = {
  npm: { setup: [], install: 'npm ci', exec: 'npx' },
  pnpm: { setup: ['      - uses: pnpm/action-setup@v4'], install: 'pnpm install --frozen-lockfile', exec: 'pnpm exec' },
  yarn: { setup: ['      - run: corepack enable'], install: 'yarn install --immutable', exec: 'yarn' },
}

/** The GitHub Actions workflow init writes: deploy, check and the rollback round trip on a throwaway PostgreSQL. */
export function ciWorkflow(options: WorkflowOptions): string {
  const { setup, install, exec } = INSTALL[options.packageManager]
  const subfolder = options.workingDirectory !== '' && options.workingDirectory !== '.'
  const lines = [
    '# Written by `npx migrate-kit init` (prisma-migrate-kit). Review it, then commit it.',
    '# On a throwaway PostgreSQL: every migration deployed in expand → backfill → contract order (the backfills a contract',
    '# migration waits for run inline), then the checks (rollback pairs, lint, drift, edited migrations, integrity checks)',
    '# and the proof that every rollback restores the schema before its migration.',
    'name: migrate-kit',
    '',
    'on:',
    '  push:',
    '    branches: [main]',
    '  pull_request:',
    '',
    'jobs:',
    '  migrations:',
    '    runs-on: ubuntu-latest',
    '    services:',
    '      postgres:',
    '        image: postgres:16',
    '        env:',
    '          POSTGRES_PASSWORD: postgres',
    '        ports: ["5432:5432"]',
    '        options: >-',
    '          --health-cmd "pg_isready -U postgres" --health-interval 5s --health-timeout 5s --health-retries 10',
    '    env:',
    `      ${options.urlVariable}: postgresql://postgres:postgres@127.0.0.1:5432/postgres`,
    ...(subfolder ? ['    defaults:', '      run:', `        working-directory: ${options.workingDirectory}`] : []),
    '    steps:',
    '      - uses: actions/checkout@v4',
    ...setup,
    '      - uses: actions/setup-node@v4',
    '        with:',
    '          node-version: 22',
    `      - run: ${install}`,
    '      - name: Lint the migrations (GitHub annotations on their lines in the pull request)',
    `        run: ${exec} migrate-kit lint --format github`,
    '      - name: Deploy (Prisma Migrate, held at each contract migration until its backfills are done)',
    `        run: ${exec} migrate-kit deploy --run-backfills`,
    '      - name: Check (rollback pairs, lint, drift, edited migrations, integrity checks)',
    `        run: ${exec} migrate-kit check`,
    '      - name: Prove every rollback (apply, roll back, compare, apply again, on a scratch database)',
    `        run: ${exec} migrate-kit verify-rollbacks`,
  ]
  return `${lines.join('\n')}\n`
}
