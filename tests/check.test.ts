import { readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Client } from 'pg'
import { runChecks, type CheckReport } from '../packages/prisma-migrate-kit/src/checks/check'
import { deploy } from '../packages/prisma-migrate-kit/src/deploy/deploy'
import { projectAt, type Project } from '../packages/prisma-migrate-kit/src/project'
import { seedDemo } from '../scripts/lib/demo-data'
import { runCli } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { createTempProject, type TempProject } from './helpers/project'
import { assertBuilt } from './helpers/schema-engine'

// `migrate-kit check`: every kind of finding it reports, found for real (Prisma's own diff, the real checksums,
// the example app's integrity checks on seeded data), the exit codes and `--json` in the shape of `lint --json`.

let db: TestDatabase
let app: TempProject
let project: Project

interface CheckJson {
  ok: boolean
  findings: Array<{ level: string; rule: string; file: string; line: number; message: string; help: string; column?: number }>
  phases: Array<{ migration: string; phase: string }>
  integrity: Array<{ name: string; status: string; violations: number; sample: Array<Record<string, unknown>> }>
}

const check = (): Promise<CheckReport> => runChecks(project, db.url)
const rules = (report: CheckReport) => report.findings.map((finding) => finding.rule)
const cli = (...args: string[]) => runCli(['check', ...args], { cwd: app.root, env: { DATABASE_URL: db.url } })

/** Changes a file for one test and puts it back, whatever the test did. */
async function withFile(relative: string, content: string | undefined, body: () => Promise<void>): Promise<void> {
  const file = app.path(relative)
  let before: string | undefined
  try {
    before = readFileSync(file, 'utf8')
  } catch {
    before = undefined
  }
  try {
    if (content === undefined) rmSync(file, { force: true })
    else app.write(relative, content)
    await body()
  } finally {
    if (before === undefined) {
      rmSync(file, { force: true })
      // A migration folder left empty would be a broken migration for the next test.
      const folder = path.dirname(file)
      if (readdirSync(folder).length === 0) rmdirSync(folder)
    } else writeFileSync(file, before)
  }
}

async function sql(statements: string): Promise<void> {
  const client = new Client({ connectionString: db.url })
  await client.connect()
  try {
    await client.query(statements)
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('check')
  app = createTempProject()
  project = projectAt(app.root)
  // The example app's story: expand, seed while username exists, backfill, contract.
  expect((await deploy(project, { databaseUrl: db.url })).outcome).toBe('blocked')
  const client = new Client({ connectionString: db.url })
  await client.connect()
  try {
    await seedDemo(client, { users: 300, seed: 3 })
  } finally {
    await client.end()
  }
  expect((await deploy(project, { databaseUrl: db.url, runBackfills: true })).outcome).toBe('done')
}, 120_000)

afterAll(async () => {
  app?.remove()
  await db?.drop()
})

test('the example app, deployed and backfilled: exit 0, no finding, every phase right, in the shape of lint --json', async () => {
  const result = await cli('--json')
  expect(result.code).toBe(0)
  const document = JSON.parse(result.stdout) as CheckJson
  expect(document).toEqual(expect.objectContaining({ ok: true, findings: [] }))
  expect(document.phases.map(({ migration, phase }) => [migration, phase])).toEqual([
    ['20261123105730_init', 'expand'],
    ['20261123113452_expand_display_name', 'expand'],
    ['20261123113457_expand_total_puzzles', 'expand'],
    ['20261123115833_contract_display_name_check', 'contract'],
    ['20261123115901_contract_display_name', 'contract'],
  ])
  expect(document.integrity.map(({ name, status }) => [name, status])).toEqual([
    ['duplicate_daily_puzzles', 'ok'],
    ['invalid_subscription_states', 'ok'],
    ['orphaned_completions', 'ok'],
  ])

  const text = await cli()
  expect(text.code).toBe(0)
  for (const title of ['Rollback pairs', 'Lint', 'Drift', 'Schema', 'Applied migrations', 'Integrity checks', 'Backfills']) {
    expect(text.stdout).toMatch(new RegExp(`^ok +${title}`, 'm'))
  }
  expect(text.stdout).toContain('check passed')
})

test('a missing rollback.sql is an error naming the migration and the command that writes it', async () => {
  await withFile('rollbacks/20261123113452_expand_display_name/rollback.sql', undefined, async () => {
    const report = await check()
    expect(report.ok).toBe(false)
    expect(report.findings).toEqual([
      expect.objectContaining({
        level: 'error',
        rule: 'rollback-missing',
        file: 'prisma/migrations/20261123113452_expand_display_name/migration.sql',
        help: expect.stringContaining('npx migrate-kit rollbacks generate 20261123113452_expand_display_name'),
      }),
    ])
  })
})

test('a lint error in a pending migration fails the check (exit 1) with its file and line', async () => {
  const name = '20261201000000_index_email'
  await withFile(
    `prisma/migrations/${name}/migration.sql`,
    `SET lock_timeout = '5s';\nCREATE INDEX "users_email_idx" ON "users"("email");\n`,
    async () => {
      await withFile(`rollbacks/${name}/rollback.sql`, 'DROP INDEX "users_email_idx";\n', async () => {
        const result = await cli('--json')
        expect(result.code).toBe(1)
        const document = JSON.parse(result.stdout) as CheckJson
        expect(document.ok).toBe(false)
        // schema.prisma has no such index, so the schema section says the next `migrate dev` would drop it.
        expect(document.findings).toEqual([
          expect.objectContaining({
            level: 'error',
            rule: 'require-concurrent-index-creation',
            file: `prisma/migrations/${name}/migration.sql`,
            line: 2,
          }),
          expect.objectContaining({
            level: 'error',
            rule: 'schema-without-migration',
            message: expect.stringMatching(/\[-\] Removed index on columns \(email\)/),
          }),
        ])
        // The pending migration is not drift: only the applied ones are compared with the database.
        expect(document.findings.map((finding) => finding.rule)).not.toContain('schema-drift')
        // Sized by a database named for it (here the same small one): "users" is small, so the finding is a warning
        // that says its size, and nothing else is an error but the schema section's.
        const sized = JSON.parse((await cli('--json', '--sizes-from', db.url)).stdout) as CheckJson
        expect(sized.findings[0]).toMatchObject({
          rule: 'require-concurrent-index-creation',
          level: 'warning',
          message: expect.stringContaining('small table'),
        })
        // The same findings as GitHub annotations, one per line, for a workflow step.
        const github = await cli('--format', 'github')
        expect(github.code).toBe(1)
        expect(github.stdout.trim().split('\n')).toEqual([
          expect.stringMatching(
            new RegExp(
              `^::error file=prisma/migrations/${name}/migration\\.sql,line=2,title=migrate-kit require-concurrent-index-creation::`,
            ),
          ),
          expect.stringMatching(/^::error file=[^,]+,line=\d+,title=migrate-kit schema-without-migration::/),
        ])
      })
    },
  )
})

test("drift made by hand in the database is found by Prisma's diff and named", async () => {
  await sql('ALTER TABLE users ADD COLUMN x int')
  try {
    const report = await check()
    const drift = report.findings.filter((finding) => finding.rule === 'schema-drift')
    expect(drift).toEqual([
      expect.objectContaining({ level: 'error', file: 'prisma/migrations/20261123115901_contract_display_name/migration.sql' }),
    ])
    expect(drift[0].message).toMatch(/Changed the `users` table[\s\S]*Added column `x`/)
    expect(report.drift).toEqual(expect.objectContaining({ status: 'drift', migrations: expect.arrayContaining(['20261123105730_init']) }))
  } finally {
    await sql('ALTER TABLE users DROP COLUMN x')
  }
})

test('a schema change with no migration is its own finding, with the command that writes the migration', async () => {
  const schema = readFileSync(app.path('prisma', 'schema.prisma'), 'utf8')
  await withFile(
    'prisma/schema.prisma',
    schema.replace(
      '  email                 String             @unique\n',
      '  email                 String             @unique\n  nickname              String?\n',
    ),
    async () => {
      const result = await cli('--json')
      expect(result.code).toBe(1)
      const document = JSON.parse(result.stdout) as CheckJson & { schemaChange: { status: string; migrations: number } }
      expect(document.findings).toEqual([
        expect.objectContaining({
          level: 'error',
          rule: 'schema-without-migration',
          file: 'prisma/schema.prisma',
          line: 1,
          message: expect.stringMatching(
            /^prisma\/schema\.prisma asks for changes that none of the 5 migrations make[\s\S]*\[\*\] Changed the `users` table\n +\[\+\] Added column `nickname`/,
          ),
          help: expect.stringContaining('npx migrate-kit new <name>'),
        }),
      ])
      expect(document.schemaChange).toMatchObject({ status: 'changed', migrations: 5 })
      const text = await cli()
      expect(text.stdout).toMatch(/^FAIL {2}Schema \(Prisma diff: every migration → prisma\/schema\.prisma\): 1 error$/m)
    },
  )
  expect((await cli()).stdout).toMatch(
    /^ok {4}Schema \(Prisma diff: every migration → prisma\/schema\.prisma\): no change without its migration \(5 migrations build it\)$/m,
  )
})

test("an applied migration.sql edited since is an error; the checksum is Prisma's", async () => {
  const file = 'prisma/migrations/20261123105730_init/migration.sql'
  const original = readFileSync(app.path(file), 'utf8')
  await withFile(file, original.replace('-- CreateEnum', '-- CreateEnum (edited)'), async () => {
    const report = await check()
    expect(rules(report)).toEqual(['migration-edited'])
    expect(report.findings[0]).toEqual(
      expect.objectContaining({ level: 'error', file, message: expect.stringContaining('edited after it was applied') }),
    )
  })
  // Line endings alone are not an edit (a Windows checkout).
  await withFile(file, original.replace(/\n/g, '\r\n'), async () => {
    expect(rules(await check())).toEqual([])
  })
})

test('each integrity check reports its bad rows: a few of them and the count', async () => {
  await sql(`
    BEGIN;
    SET LOCAL session_replication_role = replica;  -- what a restore does: foreign keys are not checked
    INSERT INTO puzzle_completions (user_id, puzzle_id, seconds_taken) VALUES (999999, 1, 60), (1, 999999, 61);
    COMMIT;
    INSERT INTO daily_puzzles (puzzle_date, variant, difficulty, puzzle, solution)
      SELECT puzzle_date, ' Classic ', difficulty, puzzle, solution FROM daily_puzzles WHERE variant = 'classic' ORDER BY id LIMIT 1;
    INSERT INTO users (email, display_name, subscription_tier, subscription_status, subscription_renews_at) VALUES
      ('free-canceled@example.com', 'a', 'free', 'canceled', NULL),
      ('pro-no-renewal@example.com', 'b', 'pro', 'active', NULL),
      ('canceled-renews@example.com', 'c', 'plus', 'canceled', now());
  `)
  try {
    const result = await cli('--json')
    expect(result.code).toBe(1)
    const document = JSON.parse(result.stdout) as CheckJson
    expect(document.findings.map(({ rule, file }) => [rule, file])).toEqual([
      ['integrity-check', 'prisma/checks/duplicate_daily_puzzles.sql'],
      ['integrity-check', 'prisma/checks/invalid_subscription_states.sql'],
      ['integrity-check', 'prisma/checks/orphaned_completions.sql'],
    ])
    const byName = new Map(document.integrity.map((entry) => [entry.name, entry]))
    expect(byName.get('orphaned_completions')).toEqual(
      expect.objectContaining({
        status: 'violations',
        violations: 2,
        sample: [expect.objectContaining({ user_id: 999999 }), expect.objectContaining({ puzzle_id: 999999 })],
      }),
    )
    expect(byName.get('duplicate_daily_puzzles')).toEqual(
      expect.objectContaining({
        violations: 1,
        sample: [expect.objectContaining({ variant: 'classic', copies: '2', spellings: ['classic', ' Classic '] })],
      }),
    )
    expect(byName.get('invalid_subscription_states')).toEqual(expect.objectContaining({ violations: 3 }))
    // The description is the file's leading comment; the message shows rows.
    const orphans = document.findings.find((finding) => finding.file.endsWith('orphaned_completions.sql'))!
    expect(orphans.message).toContain('orphaned_completions: 2 violations of "Puzzle completions whose user or puzzle is gone.')
    expect(orphans.message).toMatch(/user_id=999999/)

    const text = await cli()
    expect(text.stdout).toMatch(/^FAIL +Integrity checks \(prisma\/checks\): 3 errors$/m)
  } finally {
    await sql(`
      DELETE FROM puzzle_completions WHERE user_id = 999999 OR puzzle_id = 999999;
      DELETE FROM daily_puzzles WHERE variant = ' Classic ';
      DELETE FROM users WHERE email IN ('free-canceled@example.com', 'pro-no-renewal@example.com', 'canceled-renews@example.com');
    `)
  }
})

test('a check file that fails to run is an error naming its file and line', async () => {
  const syntax = `-- Users with a bad email.\nSELECT id\n  FROM users\n WHERE email NOT LIKE '%@%' AND AND id > 0;\n`
  await withFile('prisma/checks/bad_syntax.sql', syntax, async () => {
    await withFile(
      'prisma/checks/bad_column.sql',
      `-- Users with no name.\nSELECT id\n  FROM users\n WHERE nickname IS NULL;\n`,
      async () => {
        const report = await check()
        expect(report.findings).toEqual([
          expect.objectContaining({
            rule: 'integrity-check-error',
            file: 'prisma/checks/bad_column.sql',
            line: 4,
            column: 8,
            message: expect.stringContaining('column "nickname" does not exist'),
          }),
          expect.objectContaining({
            rule: 'integrity-check-error',
            file: 'prisma/checks/bad_syntax.sql',
            line: 4,
            message: expect.stringContaining('syntax error at or near "AND"'),
          }),
        ])
        // The others still ran.
        expect(report.integrity.filter((result) => result.status === 'ok')).toHaveLength(3)
      },
    )
  })
})

test('a pending migration that tightens a column a backfill writes waits for it: an error until it is done', async () => {
  const migration = '20261201000000_contract_email_lower'
  await withFile(
    `prisma/migrations/${migration}/migration.sql`,
    `SET lock_timeout = '5s';\nALTER TABLE "users" ADD CONSTRAINT "users_email_lower" CHECK ("email" = lower("email")) NOT VALID;\n`,
    async () => {
      await withFile(`rollbacks/${migration}/rollback.sql`, 'ALTER TABLE "users" DROP CONSTRAINT "users_email_lower";\n', async () => {
        await withFile(
          'backfills/users_email_lower.ts',
          `import { defineBackfill, sql } from 'prisma-migrate-kit'\n\nexport default defineBackfill({\n  name: 'users_email_lower',\n  after: 'contract_display_name',\n  table: 'users',\n  update: sql\`email = lower(email)\`,\n  where: sql\`email <> lower(email)\`,\n  verify: sql\`SELECT id FROM users WHERE email <> lower(email)\`,\n})\n`,
          async () => {
            const report = await check()
            expect(report.findings).toEqual([
              expect.objectContaining({
                level: 'error',
                rule: 'backfill-not-done',
                file: 'backfills/users_email_lower.ts',
                line: 4, // its name: (no before: to point at)
                message: expect.stringContaining(
                  `pending migration ${migration} (contract) waits for backfill users_email_lower, which is not run yet`,
                ),
                help: 'Run it, then deploy: npx migrate-kit backfill run users_email_lower ; npx migrate-kit deploy',
              }),
            ])
            expect(report.phases.at(-1)).toEqual(expect.objectContaining({ migration, phase: 'contract' }))
          },
        )
      })
    },
  )
})

test('exit 2 for input check cannot read: a migration folder without migration.sql', async () => {
  app.write('prisma/migrations/20261201000000_empty/.keep', '')
  try {
    const result = await cli()
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('migration folder 20261201000000_empty has no migration.sql')
    expect(result.stdout).toBe('')
  } finally {
    rmSync(app.path('prisma/migrations/20261201000000_empty'), { recursive: true, force: true })
  }
})
