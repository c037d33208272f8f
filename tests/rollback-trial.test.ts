import { existsSync, readFileSync } from 'node:fs'
import { repairDiffScript } from '../packages/prisma-migrate-kit/src/rollback/repair'
import { runCli, type CliResult } from './helpers/cli'
import { createScratchDatabase } from '../packages/prisma-migrate-kit/src/db/scratch'
import { createTestDatabase, databasesLike, type TestDatabase } from './helpers/database'
import { createTempProject, type TempProject } from './helpers/project'
import { addMigration } from './helpers/rollback'
import { assertBuilt } from './helpers/schema-engine'

// A generated rollback must run. Prisma's diff writes some scripts PostgreSQL refuses (ordered hash indexes, an enum
// swap that alters a table it has not created yet and drops the old type before its last users are gone): what can
// be mended is mended and named in the header, then every rollback is tried on a scratch database built by the
// migrations up to it. One that still does not run is refused, never written.

describe('repairDiffScript (no database)', () => {
  test('ASC/DESC and NULLS FIRST/LAST go from the columns of non-btree indexes; btree keeps them', async () => {
    const { script, repairs } = await repairDiffScript(
      [
        '-- CreateIndex',
        'CREATE INDEX "a_idx" ON "public"."T" USING HASH ("h" ASC);',
        'CREATE INDEX "b_idx" ON "public"."T" USING GIN ("g" DESC NULLS LAST);',
        'CREATE INDEX "c_idx" ON "public"."T" ("h" DESC);',
        '',
      ].join('\n'),
    )
    expect(script).toBe(
      [
        '-- CreateIndex',
        'CREATE INDEX a_idx ON public."T" USING hash (h);',
        'CREATE INDEX b_idx ON public."T" USING gin (g);',
        'CREATE INDEX "c_idx" ON "public"."T" ("h" DESC);',
        '',
      ].join('\n'),
    )
    expect(repairs.map((repair) => repair.description)).toEqual([
      expect.stringMatching(/^CREATE INDEX "a_idx" .*: ASC\/DESC removed .*access method "hash" does not support ASC\/DESC options/),
      expect.stringMatching(/^CREATE INDEX "b_idx" .*access method "gin"/),
    ])
  })

  test('BEGIN/COMMIT go silently; DROP TYPE moves to the end only for a type this script renamed away', async () => {
    const { script, repairs } = await repairDiffScript(
      [
        'BEGIN;',
        'CREATE TYPE "Role_new" AS ENUM (\'A\');',
        'ALTER TYPE "Role" RENAME TO "Role_old";',
        'ALTER TYPE "Role_new" RENAME TO "Role";',
        'DROP TYPE "Role_old";',
        'COMMIT;',
        'DROP TYPE "Mood";',
        'DROP TABLE "U";',
        '',
      ].join('\n'),
    )
    expect(script).toBe(
      [
        'CREATE TYPE "Role_new" AS ENUM (\'A\');',
        'ALTER TYPE "Role" RENAME TO "Role_old";',
        'ALTER TYPE "Role_new" RENAME TO "Role";',
        'DROP TYPE "Mood";',
        'DROP TABLE "U";',
        '',
        'DROP TYPE "Role_old";',
        '',
      ].join('\n'),
    )
    expect(repairs).toHaveLength(1)
  })

  test('a script with nothing to mend comes back unchanged, byte for byte', async () => {
    const text =
      '-- AddColumn\nALTER TABLE "T" ADD COLUMN "x" TEXT;  -- note\n\nCREATE INDEX "x_idx" ON "T" USING btree ("x" DESC NULLS LAST);\n'
    expect(await repairDiffScript(text)).toEqual({ script: text, repairs: [] })
  })
})

describe('rollbacks generate tries every rollback before writing it', () => {
  let db: TestDatabase
  let project: TempProject

  beforeAll(async () => {
    assertBuilt()
    db = await createTestDatabase('rollback_trial')
    project = createTempProject({ exampleApp: false })
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
  })
  afterAll(async () => {
    await db?.drop()
    project?.remove()
  })

  const migrateKit = (...args: string[]): Promise<CliResult> =>
    runCli(args, { cwd: project.root, env: { DATABASE_URL: db.url }, timeoutMs: 180_000 })
  const rollbackOf = (name: string) => project.path('rollbacks', name, 'rollback.sql')

  test('an enum swap Prisma orders wrongly, and hash/brin indexes, are mended, named in the header, and restore the schema', async () => {
    addMigration(
      project,
      '1_init',
      `CREATE TYPE "Role" AS ENUM ('A', 'B');\nCREATE TABLE "T" ("id" SERIAL PRIMARY KEY, "r" "Role" NOT NULL DEFAULT 'A');\n`,
    )
    addMigration(
      project,
      '2_swap',
      `ALTER TYPE "Role" ADD VALUE 'C';\nCREATE TABLE "U" ("id" SERIAL PRIMARY KEY, "role" "Role" NOT NULL);\nDROP TABLE "T";\n`,
    )
    addMigration(
      project,
      '3_indexes',
      'CREATE INDEX "U_role_idx" ON "U" USING HASH ("role");\nCREATE INDEX "U_id_idx" ON "U" USING BRIN ("id");\n',
    )
    addMigration(project, '4_drop_indexes', 'DROP INDEX "U_role_idx";\nDROP INDEX "U_id_idx";\n')
    const generate = await migrateKit('rollbacks', 'generate')
    expect({ code: generate.code, stderr: generate.stderr }).toEqual({ code: 0, stderr: '' })
    expect(generate.stdout).toMatch(
      /repaired: ALTER TABLE "public"\."T" ALTER COLUMN "r" TYPE "public"\."Role_new" .*: removed; table public\.T does not exist yet/,
    )
    expect(generate.stdout).toMatch(/repaired: DROP TYPE "public"\."Role_old": moved to the end/)
    const swap = readFileSync(rollbackOf('2_swap'), 'utf8')
    expect(swap).toMatch(/^-- REPAIRED: DROP TYPE "public"\."Role_old": moved to the end/m)
    expect(swap.trimEnd().endsWith('DROP TYPE "public"."Role_old";')).toBe(true)
    const indexes = readFileSync(rollbackOf('4_drop_indexes'), 'utf8')
    expect(indexes).toContain('USING hash (role);')
    expect(indexes.split('\n').filter((line) => !line.startsWith('--') && /\bASC\b/.test(line))).toEqual([])

    // The trial compared the schema after each rollback with the one before its migration and applied the migration
    // again: nothing to review means both held (verify-rollbacks' own round trip is tested in rollback-verify).
    for (const name of ['1_init', '2_swap', '3_indexes', '4_drop_indexes']) {
      expect({ name, review: readFileSync(rollbackOf(name), 'utf8').match(/^-- REVIEW.*$/gm) }).toEqual({ name, review: null })
    }
  }, 240_000)

  test('a rollback nothing can mend is not written: exit 1, the statement, line and PostgreSQL error; --print shows it', async () => {
    // The view is SQL Prisma does not model: its diff swaps the enum under a column the view reads, which PostgreSQL
    // refuses (0A000). The trial must catch that, whatever the diff looked like.
    addMigration(
      project,
      '5_view',
      `CREATE TABLE "P" ("id" SERIAL PRIMARY KEY, "role" "Role" NOT NULL);\nCREATE VIEW "P_roles" AS SELECT "role" FROM "P";\n`,
    )
    addMigration(project, '6_add_value', `ALTER TYPE "Role" ADD VALUE 'D';\n`)
    const generate = await migrateKit('rollbacks', 'generate', '6_add_value')
    expect(generate.code).toBe(1)
    expect(generate.stderr).toContain(
      "the rollback Prisma's diff gives for 6_add_value does not run on the schema it is for, so rollbacks/6_add_value/rollback.sql was not written",
    )
    expect(generate.stderr).toMatch(
      /rollbacks\/6_add_value\/rollback\.sql:\d+:\d+: PostgreSQL error 0A000: cannot alter type of a column used by a view or rule/,
    )
    expect(generate.stderr).toContain('npx migrate-kit rollbacks generate 6_add_value --print')
    expect(existsSync(rollbackOf('6_add_value'))).toBe(false)

    const printed = await migrateKit('rollbacks', 'generate', '6_add_value', '--print')
    expect(printed.code).toBe(1)
    expect(printed.stdout).toMatch(/^-- Rollback of prisma\/migrations\/6_add_value\/migration\.sql/)
    expect(printed.stdout).toContain('ALTER TABLE "public"."P" ALTER COLUMN "role" TYPE')
    expect(printed.stderr).toMatch(/this rollback does not run on the schema it is for:\nrollbacks\/6_add_value\/rollback\.sql:\d+/)
    expect(existsSync(rollbackOf('6_add_value'))).toBe(false)

    // The trial's scratch databases are gone, after a refusal too (only ours: a test beside this one may be in a trial).
    expect(await databasesLike('migrate_kit_trial_', db.name)).toEqual([])
  }, 240_000)

  test('a scratch database says in its comment which database it stands in for and which process made it', async () => {
    const scratch = await createScratchDatabase(db.url, { prefix: 'migrate_kit_trial_' })
    try {
      expect(await databasesLike('migrate_kit_trial_', db.name)).toEqual([scratch.name])
      expect(await databasesLike('migrate_kit_trial_', `${db.name}_other`)).toEqual([])
      const [row] = await db.query<{ comment: string }>(
        `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
        [scratch.name],
      )
      expect(row?.comment).toMatch(
        new RegExp(
          `^prisma-migrate-kit scratch database for ${db.name}, made by process ${process.pid} at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; safe to drop once that process is gone$`,
        ),
      )
    } finally {
      await scratch.drop()
    }
    expect(await databasesLike('migrate_kit_trial_', db.name)).toEqual([])
  })
})

describe('REVIEW notes: what a generated rollback does not revert, found by running it', () => {
  let db: TestDatabase
  let project: TempProject

  beforeAll(async () => {
    assertBuilt()
    db = await createTestDatabase('rollback_review')
    project = createTempProject({ exampleApp: false })
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
  })
  afterAll(async () => {
    await db?.drop()
    project?.remove()
  })

  const reviewLines = (text: string): string[] =>
    text
      .replace(/\n-- {3}/g, ' ')
      .split('\n')
      .filter((line) => line.startsWith('-- REVIEW: '))
      .map((line) => line.slice('-- REVIEW: '.length))

  test('a CHECK constraint, a trigger, its function, an extension, an enum order, rows inserted: each gets its line, in words', async () => {
    addMigration(
      project,
      '1_init',
      `CREATE TYPE "Mood" AS ENUM ('low', 'mid', 'high');\n` +
        `CREATE TABLE "Account" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL, "mood" "Mood");\n` +
        `CREATE TABLE "Plan" ("code" TEXT PRIMARY KEY);\n`,
    )
    addMigration(
      project,
      '2_unmodelled',
      `ALTER TABLE "Account" ADD CONSTRAINT "Account_email_lower" CHECK ("email" = lower("email"));\n` +
        `CREATE FUNCTION "touch"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;\n` +
        `CREATE TRIGGER "Account_touch" BEFORE UPDATE ON "Account" FOR EACH ROW EXECUTE FUNCTION "touch"();\n` +
        `CREATE EXTENSION IF NOT EXISTS "citext";\n`,
    )
    // Prisma's own enum swap, dropping the value in the middle: its diff can only add it back at the end.
    addMigration(
      project,
      '3_drop_mid',
      `CREATE TYPE "Mood_new" AS ENUM ('low', 'high');\n` +
        `ALTER TABLE "Account" ALTER COLUMN "mood" TYPE "Mood_new" USING ("mood"::text::"Mood_new");\n` +
        `ALTER TYPE "Mood" RENAME TO "Mood_old";\nALTER TYPE "Mood_new" RENAME TO "Mood";\nDROP TYPE "Mood_old";\n`,
    )
    addMigration(project, '4_seed', `INSERT INTO "Plan" ("code") VALUES ('free'), ('pro');\n`)
    const generate = await runCli(['rollbacks', 'generate'], { cwd: project.root, env: { DATABASE_URL: db.url }, timeoutMs: 180_000 })
    expect({ code: generate.code, stderr: generate.stderr }).toEqual({ code: 0, stderr: '' })

    const unmodelled = reviewLines(readFileSync(project.path('rollbacks', '2_unmodelled', 'rollback.sql'), 'utf8'))
    const found = 'not restored (found by running this file on a scratch database)'
    expect(unmodelled).toEqual([
      `${found}: extension citext: exists after the rollback, absent before the migration; add its inverse by hand.`,
      `${found}: constraint "Account"."Account_email_lower": exists after the rollback, absent before the migration; add its inverse by hand.`,
      `${found}: function touch(): exists after the rollback, absent before the migration; add its inverse by hand.`,
      `${found}: trigger "Account"."Account_touch": exists after the rollback, absent before the migration; add its inverse by hand.`,
      expect.stringMatching(
        /^applying the migration again after this rollback fails \(42710: constraint "Account_email_lower" for relation "Account" already exists\)/,
      ),
    ])

    // Prisma's diff is empty there, and the file says it is incomplete rather than "data only"; so does the command.
    const unmodelledText = readFileSync(project.path('rollbacks', '2_unmodelled', 'rollback.sql'), 'utf8')
    expect(unmodelledText).toContain(
      '-- INCOMPLETE: Prisma found no schema difference to revert, yet running this file on a scratch database left 4',
    )
    expect(unmodelledText).not.toContain('changes only data')
    expect(generate.stdout).toContain(
      'Wrote rollbacks/2_unmodelled/rollback.sql (INCOMPLETE: it leaves 4 schema objects of the migration in place; see the REVIEW lines in its header)',
    )
    expect(generate.stdout).toContain('Wrote rollbacks/4_seed/rollback.sql (Prisma found nothing to revert: see its header)')

    const order = reviewLines(readFileSync(project.path('rollbacks', '3_drop_mid', 'rollback.sql'), 'utf8'))
    expect(order).toEqual([
      `${found}: enum "Mood": values differs: "'low', 'high', 'mid'" after the rollback vs "'low', 'mid', 'high'" before the migration; add its inverse by hand.`,
    ])

    const seed = reviewLines(readFileSync(project.path('rollbacks', '4_seed', 'rollback.sql'), 'utf8'))
    expect(seed).toEqual([
      'prisma/migrations/4_seed/migration.sql line 1 inserts rows into Plan; nothing below deletes them.',
      expect.stringMatching(
        /^applying the migration again after this rollback fails \(23505: duplicate key value violates unique constraint "Plan_pkey"/,
      ),
    ])
    // Words a person reads, never the parser's node names.
    expect(generate.stdout).not.toMatch(/Stmt\b|\b(Create|Alter|Drop)[A-Z]\w+/)
  }, 240_000)
})
