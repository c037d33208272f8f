import { existsSync, readFileSync } from 'node:fs'
import { repairDiffScript } from '../packages/prisma-migrate-kit/src/rollback/repair'
import { runCli, type CliResult } from './helpers/cli'
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
      ['-- CreateIndex', 'CREATE INDEX a_idx ON public."T" USING hash (h);', 'CREATE INDEX b_idx ON public."T" USING gin (g);', 'CREATE INDEX "c_idx" ON "public"."T" ("h" DESC);', ''].join('\n'),
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
      ['CREATE TYPE "Role_new" AS ENUM (\'A\');', 'ALTER TYPE "Role" RENAME TO "Role_old";', 'ALTER TYPE "Role_new" RENAME TO "Role";', 'DROP TYPE "Mood";', 'DROP TABLE "U";', '', 'DROP TYPE "Role_old";', ''].join('\n'),
    )
    expect(repairs).toHaveLength(1)
  })

  test('a script with nothing to mend comes back unchanged, byte for byte', async () => {
    const text = '-- AddColumn\nALTER TABLE "T" ADD COLUMN "x" TEXT;  -- note\n\nCREATE INDEX "x_idx" ON "T" USING btree ("x" DESC NULLS LAST);\n'
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

  const migrateKit = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: project.root, env: { DATABASE_URL: db.url }, timeoutMs: 180_000 })
  const rollbackOf = (name: string) => project.path('rollbacks', name, 'rollback.sql')

  test('an enum swap Prisma orders wrongly, and hash/brin indexes, are mended, named in the header, and round-trip', async () => {
    addMigration(project, '1_init', `CREATE TYPE "Role" AS ENUM ('A', 'B');\nCREATE TABLE "T" ("id" SERIAL PRIMARY KEY, "r" "Role" NOT NULL DEFAULT 'A');\n`)
    addMigration(project, '2_swap', `ALTER TYPE "Role" ADD VALUE 'C';\nCREATE TABLE "U" ("id" SERIAL PRIMARY KEY, "role" "Role" NOT NULL);\nDROP TABLE "T";\n`)
    addMigration(project, '3_indexes', 'CREATE INDEX "U_role_idx" ON "U" USING HASH ("role");\nCREATE INDEX "U_id_idx" ON "U" USING BRIN ("id");\n')
    addMigration(project, '4_drop_indexes', 'DROP INDEX "U_role_idx";\nDROP INDEX "U_id_idx";\n')
    const generate = await migrateKit('rollbacks', 'generate')
    expect({ code: generate.code, stderr: generate.stderr }).toEqual({ code: 0, stderr: '' })
    expect(generate.stdout).toMatch(/repaired: ALTER TABLE "public"\."T" ALTER COLUMN "r" TYPE "public"\."Role_new" .*: removed; table public\.T does not exist yet/)
    expect(generate.stdout).toMatch(/repaired: DROP TYPE "public"\."Role_old": moved to the end/)
    const swap = readFileSync(rollbackOf('2_swap'), 'utf8')
    expect(swap).toMatch(/^-- REPAIRED: DROP TYPE "public"\."Role_old": moved to the end/m)
    expect(swap.trimEnd().endsWith('DROP TYPE "public"."Role_old";')).toBe(true)
    const indexes = readFileSync(rollbackOf('4_drop_indexes'), 'utf8')
    expect(indexes).toContain('USING hash (role);')
    expect(indexes.split('\n').filter((line) => !line.startsWith('--') && /\bASC\b/.test(line))).toEqual([])

    // The proof: each of them restores the schema from before its migration, and Prisma applies it again.
    const verify = await migrateKit('verify-rollbacks')
    expect({ code: verify.code, out: verify.stdout }).toEqual({ code: 0, out: expect.stringContaining('All 4 rollbacks restore the schema') })
  }, 240_000)

  test('a rollback nothing can mend is not written: exit 1, the statement, line and PostgreSQL error; --print shows it', async () => {
    // The view is SQL Prisma does not model: its diff swaps the enum under a column the view reads, which PostgreSQL
    // refuses (0A000). The trial must catch that, whatever the diff looked like.
    addMigration(project, '5_view', `CREATE TABLE "P" ("id" SERIAL PRIMARY KEY, "role" "Role" NOT NULL);\nCREATE VIEW "P_roles" AS SELECT "role" FROM "P";\n`)
    addMigration(project, '6_add_value', `ALTER TYPE "Role" ADD VALUE 'D';\n`)
    const generate = await migrateKit('rollbacks', 'generate', '6_add_value')
    expect(generate.code).toBe(1)
    expect(generate.stderr).toContain("the rollback Prisma's diff gives for 6_add_value does not run on the schema it is for, so rollbacks/6_add_value/rollback.sql was not written")
    expect(generate.stderr).toMatch(/rollbacks\/6_add_value\/rollback\.sql:\d+:\d+: PostgreSQL error 0A000: cannot alter type of a column used by a view or rule/)
    expect(generate.stderr).toContain('npx migrate-kit rollbacks generate 6_add_value --print')
    expect(existsSync(rollbackOf('6_add_value'))).toBe(false)

    const printed = await migrateKit('rollbacks', 'generate', '6_add_value', '--print')
    expect(printed.code).toBe(1)
    expect(printed.stdout).toMatch(/^-- Rollback of prisma\/migrations\/6_add_value\/migration\.sql/)
    expect(printed.stdout).toContain('ALTER TABLE "public"."P" ALTER COLUMN "role" TYPE')
    expect(printed.stderr).toMatch(/this rollback does not run on the schema it is for:\nrollbacks\/6_add_value\/rollback\.sql:\d+/)
    expect(existsSync(rollbackOf('6_add_value'))).toBe(false)

    // The trial's scratch databases are gone, after a refusal too.
    expect(await databasesLike('migrate_kit_trial_')).toEqual([])
  }, 240_000)
})
