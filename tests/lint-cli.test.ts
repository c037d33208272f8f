import { existsSync } from 'node:fs'
import path from 'node:path'
import { runCli } from './helpers/cli'
import { PACKAGE_ROOT, createTempProject, type TempProject } from './helpers/project'

// These run the real binary, which runs dist/: `npm run build` first (npm test does).
const INIT = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" VARCHAR(50),

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
`
const ADD_POSTS = `-- CreateTable
CREATE TABLE "Post" ("id" SERIAL NOT NULL, "authorId" INTEGER NOT NULL, CONSTRAINT "Post_pkey" PRIMARY KEY ("id"));

-- CreateIndex
CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`
const INDEX_NAME = `-- CreateIndex
CREATE INDEX "User_name_idx" ON "User"("name");
`

let project: TempProject

beforeAll(() => {
  if (!existsSync(path.join(PACKAGE_ROOT, 'dist', 'cli', 'commands', 'lint.js'))) {
    throw new Error('dist/ has no lint command: run `npm run build` before this test')
  }
})

beforeEach(() => {
  project = createTempProject({ exampleApp: false })
  project.write('prisma/migrations/20260101000000_init/migration.sql', INIT)
  project.write('prisma/migrations/20260102000000_add_posts/migration.sql', ADD_POSTS)
})

afterEach(() => project.remove())

const lint = (...args: string[]) => runCli(['lint', ...args], { cwd: project.root })

test('exit 0 when no finding is an error; the terminal report lists each migration and its phase', async () => {
  const result = await lint()
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  expect(result.stdout).toMatch(/20260101000000_init\s+expand/)
  expect(result.stdout).toMatch(/20260102000000_add_posts\s+expand/)
  expect(result.stdout).toContain('2 migrations linted: 0 errors, 0 warnings.')
})

test('exit 1 on an error finding, printed as file:line rule level, message and help', async () => {
  project.write('prisma/migrations/20260103000000_index_name/migration.sql', INDEX_NAME)
  const result = await lint()
  expect(result.code).toBe(1)
  const file = 'prisma/migrations/20260103000000_index_name/migration.sql'
  expect(result.stdout).toContain(`${file}:2 require-concurrent-index-creation error\n  Building this index takes a SHARE lock on "User"`)
  expect(result.stdout).toContain('  help: Build it with CONCURRENTLY')
  expect(result.stdout).toContain('CREATE INDEX CONCURRENTLY "User_name_idx" ON "User" (name);')
  expect(result.stdout).toContain('3 migrations linted: 1 error, 0 warnings.')
})

test('--json prints exactly { ok, findings, phases } with the documented fields', async () => {
  project.write('prisma/migrations/20260103000000_index_name/migration.sql', INDEX_NAME)
  const result = await lint('--json')
  expect(result.code).toBe(1)
  const document = JSON.parse(result.stdout) as Record<string, unknown>
  expect(Object.keys(document)).toEqual(expect.arrayContaining(['ok', 'findings', 'phases']))
  expect(document.ok).toBe(false)
  expect(document.findings).toEqual([
    {
      level: 'error',
      rule: 'require-concurrent-index-creation',
      file: 'prisma/migrations/20260103000000_index_name/migration.sql',
      line: 2,
      message: expect.stringContaining('SHARE lock'),
      help: expect.stringContaining('CONCURRENTLY'),
    },
  ])
  expect(document.phases).toEqual([
    expect.objectContaining({ migration: '20260101000000_init', phase: 'expand' }),
    expect.objectContaining({ migration: '20260102000000_add_posts', phase: 'expand' }),
    expect.objectContaining({ migration: '20260103000000_index_name', phase: 'expand' }),
  ])
})

test('a named migration is linted alone, with the migrations before it as context', async () => {
  project.write('prisma/migrations/20260103000000_index_name/migration.sql', INDEX_NAME)
  // By the name after the timestamp: the table comes from an earlier migration, so the index is flagged…
  const named = JSON.parse((await lint('index_name', '--json')).stdout) as { findings: unknown[]; phases: unknown[] }
  expect(named.phases).toEqual([expect.objectContaining({ migration: '20260103000000_index_name' })])
  expect(named.findings).toEqual([expect.objectContaining({ rule: 'require-concurrent-index-creation' })])
  // …while add_posts indexes a table it creates itself: nothing to report, exit 0.
  const full = await lint('20260102000000_add_posts', '--json')
  expect(full.code).toBe(0)
  expect(JSON.parse(full.stdout)).toEqual(
    expect.objectContaining({ ok: true, findings: [], phases: [expect.objectContaining({ migration: '20260102000000_add_posts' })] }),
  )
})

test('a path to a migration.sql, or to a .sql file outside the history, is linted with the history as context', async () => {
  const inside = await lint('prisma/migrations/20260101000000_init/migration.sql', '--json')
  expect(inside.code).toBe(0)
  expect(JSON.parse(inside.stdout).phases).toEqual([expect.objectContaining({ migration: '20260101000000_init' })])

  project.write('drafts/next.sql', `SET lock_timeout = '5s';\nALTER TABLE "Post" DROP COLUMN "authorId";\n`)
  const draft = await lint('drafts/next.sql', '--json')
  expect(draft.code).toBe(1)
  expect(JSON.parse(draft.stdout)).toEqual(
    expect.objectContaining({
      findings: [expect.objectContaining({ rule: 'ban-drop-column', file: 'drafts/next.sql', line: 2 })],
      phases: [expect.objectContaining({ migration: 'drafts/next.sql', phase: 'contract' })],
    }),
  )
})

test('exit 2 for an unknown migration or a missing file, with nothing on stdout', async () => {
  const unknown = await lint('no_such_migration')
  expect(unknown.code).toBe(2)
  expect(unknown.stdout).toBe('')
  expect(unknown.stderr).toContain('no migration named "no_such_migration"')

  const missing = await lint('drafts/missing.sql', '--json')
  expect(missing.code).toBe(2)
  expect(missing.stdout).toBe('')
  expect(missing.stderr).toContain('no such file: drafts/missing.sql')
})

test('a syntax error is reported with its line and column (exit 1), not as a crash', async () => {
  project.write('prisma/migrations/20260103000000_broken/migration.sql', `-- é\nALTER TABLE "User" ADD COLUMN "x" TEXT DEFALT 'a';\n`)
  const result = await lint('broken', '--json')
  expect(result.code).toBe(1)
  expect(JSON.parse(result.stdout).findings).toEqual([
    expect.objectContaining({ rule: 'syntax-error', level: 'error', line: 2, column: 40, message: expect.stringContaining('DEFALT') }),
  ])
})

test('--rules lists every rule with its level; --postgres-version changes the version-dependent rules', async () => {
  const catalogue = await lint('--rules', '--json')
  expect(catalogue.code).toBe(0)
  const { rules } = JSON.parse(catalogue.stdout) as { rules: Array<{ name: string; level: string; summary: string }> }
  expect(rules.map((rule) => rule.name)).toEqual(expect.arrayContaining(['ban-drop-column', 'require-lock-timeout', 'syntax-error']))

  project.write(
    'prisma/migrations/20260103000000_roles/migration.sql',
    `CREATE TYPE "Role" AS ENUM ('A');\nALTER TYPE "Role" ADD VALUE 'B';\n`,
  )
  expect((await lint('roles')).code).toBe(0)
  const old = await lint('roles', '--postgres-version', '11', '--json')
  expect(old.code).toBe(1)
  expect(JSON.parse(old.stdout).findings).toEqual([expect.objectContaining({ rule: 'adding-enum-value-in-transaction', line: 2 })])
  expect((await lint('--postgres-version', 'eleven')).code).toBe(2)
})

describe('timeout-too-long: the limit comes from the command line, then package.json, then 10 s', () => {
  beforeEach(() => {
    project.write(
      'prisma/migrations/20260103000000_slow_lock/migration.sql',
      `SET lock_timeout = '30s';\nALTER TABLE "User" ADD COLUMN "bio" TEXT;\n`,
    )
  })
  const timeoutFindings = async (...args: string[]) => {
    const result = await lint('slow_lock', '--json', ...args)
    const report = JSON.parse(result.stdout) as { findings: Array<{ rule: string; line: number; message: string }> }
    return report.findings.filter((finding) => finding.rule === 'timeout-too-long')
  }

  test('30 s is over the default 10 s; --max-lock-timeout 1min accepts it; a bad value is refused', async () => {
    expect(await timeoutFindings()).toEqual([
      expect.objectContaining({ line: 1, message: expect.stringContaining('longer than the limit of 10 s') }),
    ])
    expect(await timeoutFindings('--max-lock-timeout', '1min')).toEqual([])
    const bad = await lint('--max-lock-timeout', 'soon')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--max-lock-timeout must be a duration')
  })

  test('package.json "migrateKit.maxLockTimeout" sets the limit; the flag still wins', async () => {
    project.write('package.json', JSON.stringify({ name: 'app', migrateKit: { maxLockTimeout: '45s' } }))
    expect(await timeoutFindings()).toEqual([])
    expect(await timeoutFindings('--max-lock-timeout', '20s')).toHaveLength(1)
    project.write('package.json', JSON.stringify({ name: 'app', migrateKit: { maxLockTimeout: 'later' } }))
    const refused = await lint()
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('"migrateKit.maxLockTimeout"')
  })
})
