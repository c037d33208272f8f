import { analyzeMigration, analyzeMigrations, type LintSettings, type MigrationAnalysis } from '../packages/prisma-migrate-kit/src/lint'

/** Analyses a history of migration files in order and returns the analysis of the last one. */
async function lintLast(migrations: string[], settings: Partial<LintSettings> = {}): Promise<MigrationAnalysis> {
  const analyses = await analyzeMigrations(
    migrations.map((sql, index) => ({
      name: `2026010${index + 1}000000_step${index + 1}`,
      file: `prisma/migrations/2026010${index + 1}000000_step${index + 1}/migration.sql`,
      sql,
    })),
    { settings },
  )
  return analyses[analyses.length - 1]
}

const rules = (analysis: MigrationAnalysis) => analysis.findings.map((finding) => finding.rule)
const at = (analysis: MigrationAnalysis, rule: string) => analysis.findings.filter((finding) => finding.rule === rule)

const CREATE_USER = `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT,
    "name" VARCHAR(50),
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);`

describe('context across the migration history', () => {
  test('an index on a table created in the same migration is fine; on a table of an earlier migration it is not', async () => {
    const sameMigration = await lintLast([`${CREATE_USER}\nCREATE INDEX "User_email_idx" ON "User"("email");`])
    expect(rules(sameMigration)).toEqual([])

    const laterMigration = await lintLast([CREATE_USER, `CREATE INDEX "User_email_idx" ON "User"("email");`])
    expect(at(laterMigration, 'require-concurrent-index-creation')).toEqual([
      expect.objectContaining({ level: 'error', line: 1, file: 'prisma/migrations/20260102000000_step2/migration.sql' }),
    ])
  })

  test('a table no migration created (a baseline) counts as existing', async () => {
    const analysis = await lintLast([`CREATE INDEX "Legacy_code_idx" ON "Legacy"("code");`])
    expect(rules(analysis)).toContain('require-concurrent-index-creation')
  })

  test('a renamed table stays existing; a table dropped and created again in the migration is new', async () => {
    const renamed = await lintLast([
      CREATE_USER,
      `-- migrate-kit-ignore renaming-table: compatibility view added below\nALTER TABLE "User" RENAME TO "Account";`,
      `CREATE INDEX "Account_email_idx" ON "Account"("email");`,
    ])
    expect(rules(renamed)).toContain('require-concurrent-index-creation')

    const recreated = await lintLast([
      CREATE_USER,
      `-- migrate-kit-ignore ban-drop-table: test data only\nDROP TABLE "User";\n${CREATE_USER}\nCREATE INDEX "User_email_idx" ON "User"("email");`,
    ])
    expect(rules(recreated)).not.toContain('require-concurrent-index-creation')
  })

  test('SET NOT NULL is fine after a CHECK (col IS NOT NULL) validated in an earlier migration, not after one NOT VALID', async () => {
    const addCheck = `ALTER TABLE "User" ADD CONSTRAINT "User_email_not_null" CHECK ("email" IS NOT NULL) NOT VALID;`
    const validate = `ALTER TABLE "User" VALIDATE CONSTRAINT "User_email_not_null";`
    const setNotNull = `ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;`

    expect(rules(await lintLast([CREATE_USER, addCheck, validate, setNotNull]))).not.toContain('adding-not-nullable-field')
    expect(rules(await lintLast([CREATE_USER, addCheck, `${validate}\n${setNotNull}`]))).not.toContain('adding-not-nullable-field')
    expect(rules(await lintLast([CREATE_USER, addCheck, setNotNull]))).toContain('adding-not-nullable-field')
    // A validated CHECK on another column proves nothing about this one.
    const otherColumn = `ALTER TABLE "User" ADD CONSTRAINT "User_name_not_null" CHECK ("name" IS NOT NULL) NOT VALID;`
    const validateOther = `ALTER TABLE "User" VALIDATE CONSTRAINT "User_name_not_null";`
    expect(rules(await lintLast([CREATE_USER, otherColumn, validateOther, setNotNull]))).toContain('adding-not-nullable-field')
    // PostgreSQL 11 cannot use the CHECK: SET NOT NULL always scans there.
    const old = await lintLast([CREATE_USER, addCheck, validate, setNotNull], { postgresVersion: 11 })
    expect(at(old, 'adding-not-nullable-field')[0]?.message).toContain('PostgreSQL 11 cannot use the validated CHECK')
  })

  test('validating a constraint in the migration that added it NOT VALID keeps the blocking lock for the scan', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `ALTER TABLE "User" ADD CONSTRAINT "User_email_check" CHECK (length("email") > 3) NOT VALID;\n` +
        `ALTER TABLE "User" VALIDATE CONSTRAINT "User_email_check";`,
    ])
    expect(at(analysis, 'constraint-missing-not-valid')).toEqual([expect.objectContaining({ line: 2 })])
  })

  test('a type change is judged against the type the history gave the column', async () => {
    const widen = await lintLast([CREATE_USER, `ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(100);`])
    expect(rules(widen)).not.toContain('changing-column-type')
    expect(widen.effects).toEqual([expect.objectContaining({ kind: 'alter_type', table: 'User', column: 'name', rewrite: false })])

    const narrow = await lintLast([CREATE_USER, `ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(20);`])
    expect(at(narrow, 'changing-column-type')[0]?.message).toContain('varchar(50) → varchar(20)')

    // The history follows renames: the column keeps its type under its new name.
    const renamed = await lintLast([
      CREATE_USER,
      `-- migrate-kit-ignore renaming-column: field kept with @map\nALTER TABLE "User" RENAME COLUMN "name" TO "fullName";`,
      `ALTER TABLE "User" ALTER COLUMN "fullName" SET DATA TYPE TEXT;`,
    ])
    expect(rules(renamed)).not.toContain('changing-column-type')
  })

  test('CONCURRENTLY is refused in a multi-statement file and inside BEGIN, accepted alone', async () => {
    const alone = await lintLast([CREATE_USER, `-- CreateIndex\nCREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");\n`])
    // Accepted (no error); the one warning says what a failure part-way leaves and how to clean up.
    expect(rules(alone)).toEqual(['concurrently-failure'])
    expect(at(alone, 'concurrently-failure')[0]).toMatchObject({ level: 'warning', message: expect.stringContaining('marked INVALID') })
    expect(at(alone, 'concurrently-failure')[0]?.help).toContain('DROP INDEX CONCURRENTLY IF EXISTS "User_email_idx";')
    const withSet = await lintLast([CREATE_USER, `SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY "i" ON "User"("email");`])
    expect(at(withSet, 'ban-concurrently-in-transaction')[0]?.message).toContain('2 statements')
    const inBegin = await lintLast([CREATE_USER, `BEGIN;\nDROP INDEX CONCURRENTLY "i";\nCOMMIT;`])
    expect(at(inBegin, 'ban-concurrently-in-transaction')[0]?.message).toContain('BEGIN … COMMIT')
  })

  test('ADD VALUE in a transaction fails before PostgreSQL 12 only; using the new value fails on every version', async () => {
    const twoValues = `ALTER TYPE "Role" ADD VALUE 'A';\nALTER TYPE "Role" ADD VALUE 'B';`
    expect(at(await lintLast([twoValues], { postgresVersion: 11 }), 'adding-enum-value-in-transaction')).toHaveLength(2)
    expect(rules(await lintLast([twoValues], { postgresVersion: 12 }))).toEqual([])
    const used = await lintLast([`ALTER TYPE "Role" ADD VALUE 'A';\nUPDATE "User" SET "role" = 'A' WHERE "id" = 7;`])
    expect(at(used, 'enum-value-used-before-commit')).toEqual([expect.objectContaining({ line: 2 })])
  })

  test('require-lock-timeout: once per migration, at the first ACCESS EXCLUSIVE statement on an existing table', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `CREATE TABLE "Team" ("id" INTEGER);\nALTER TABLE "Team" ADD COLUMN "a" TEXT;\n` +
        `ALTER TABLE "User" ADD COLUMN "b" TEXT;\nALTER TABLE "User" ADD COLUMN "c" TEXT;`,
    ])
    expect(at(analysis, 'require-lock-timeout')).toEqual([expect.objectContaining({ line: 3, level: 'warning' })])
    const guarded = await lintLast([CREATE_USER, `SET lock_timeout = '3s';\nALTER TABLE "User" ADD COLUMN "b" TEXT;`])
    expect(rules(guarded)).toEqual([])
    const reset = await lintLast([CREATE_USER, `SET lock_timeout = '3s';\nSET lock_timeout = 0;\nALTER TABLE "User" ADD COLUMN "b" TEXT;`])
    expect(rules(reset)).toEqual(['timeout-too-long', 'require-lock-timeout'])
  })

  test('a default rewrites the table when volatile, or always before PostgreSQL 11; now() is stable', async () => {
    const withNow = `ALTER TABLE "User" ADD COLUMN "seenAt" TIMESTAMP(3) NOT NULL DEFAULT now();`
    expect(rules(await lintLast([CREATE_USER, `SET lock_timeout = '5s';\n${withNow}`]))).toEqual([])
    const old = await lintLast([CREATE_USER, `SET lock_timeout = '5s';\n${withNow}`], { postgresVersion: 10 })
    expect(at(old, 'adding-field-with-default')).toEqual([
      expect.objectContaining({ level: 'error', message: expect.stringContaining('PostgreSQL 10 writes any DEFAULT') }),
    ])
    const custom = await lintLast([CREATE_USER, `SET lock_timeout = '5s';\nALTER TABLE "User" ADD COLUMN "code" TEXT DEFAULT make_code();`])
    expect(at(custom, 'adding-field-with-default')).toEqual([
      expect.objectContaining({
        level: 'warning',
        message: expect.stringContaining('make_code() is evaluated for every row if it is VOLATILE'),
      }),
    ])
  })

  test('a whole-table UPDATE names the backfill file and the command to run instead', async () => {
    const analysis = await lintLast([CREATE_USER, `UPDATE "User" SET "name" = lower("email");`])
    const [finding] = at(analysis, 'ban-full-table-write')
    expect(finding?.help).toContain('backfills/User_name.ts')
    expect(finding?.help).toContain('defineBackfill')
    expect(finding?.help).toContain("after: '20260102000000_step2'")
    expect(finding?.help).toContain('update: sql`"name" = lower(email)`')
    expect(finding?.help).toContain('migrate-kit backfill run User_name')
    expect(rules(await lintLast([CREATE_USER, `UPDATE "User" SET "name" = 'x' WHERE "id" = 1;`]))).toEqual([])
  })
})

describe('phases', () => {
  test('expand: new tables, nullable columns, constant defaults, concurrent indexes, constraints on new columns', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `SET lock_timeout = '5s';\n` +
        `CREATE TABLE "Team" ("id" SERIAL NOT NULL, "ownerId" INTEGER NOT NULL, CONSTRAINT "Team_pkey" PRIMARY KEY ("id"));\n` +
        `ALTER TABLE "Team" ADD CONSTRAINT "Team_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id");\n` +
        `ALTER TABLE "User" ADD COLUMN "bio" TEXT, ADD COLUMN "plan" TEXT NOT NULL DEFAULT 'free';\n` +
        `ALTER TABLE "User" ADD CONSTRAINT "User_plan_check" CHECK ("plan" <> '') NOT VALID;`,
    ])
    expect(analysis.phase).toBe('expand')
    expect(analysis.effects.map((effect) => effect.kind)).toEqual([
      'create_table',
      'add_foreign_key',
      'add_column',
      'add_column',
      'add_check',
    ])
  })

  test('contract: drops and tightenings that older code may rely on', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `ALTER TABLE "User" ADD CONSTRAINT "User_email_not_null" CHECK ("email" IS NOT NULL) NOT VALID;`,
      `ALTER TABLE "User" VALIDATE CONSTRAINT "User_email_not_null";\n` +
        `ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\n` +
        `ALTER TABLE "User" DROP COLUMN "name";`,
    ])
    expect(analysis.phase).toBe('contract')
    expect(analysis.effects).toEqual([
      expect.objectContaining({ kind: 'validate_constraint', table: 'User', constraint: 'User_email_not_null', phase: 'contract' }),
      expect.objectContaining({ kind: 'set_not_null', table: 'User', column: 'email', phase: 'contract' }),
      expect.objectContaining({ kind: 'drop_column', table: 'User', column: 'name', phase: 'contract' }),
    ])
  })

  test('contract: a CHECK or a foreign key added NOT VALID to existing columns checks every write from then on', async () => {
    const check = await lintLast([
      CREATE_USER,
      `ALTER TABLE "User" ADD CONSTRAINT "User_name_present" CHECK ("name" IS NOT NULL AND "email" <> '') NOT VALID;`,
    ])
    expect(check.phase).toBe('contract')
    expect(check.effects).toEqual([
      expect.objectContaining({ kind: 'add_check', notValid: true, columns: ['name', 'email'], phase: 'contract' }),
    ])
    const foreignKey = await lintLast([
      CREATE_USER,
      `CREATE TABLE "Team" ("id" SERIAL PRIMARY KEY);\nALTER TABLE "User" ADD COLUMN "teamId" INTEGER;`,
      `ALTER TABLE "User" ADD CONSTRAINT "User_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") NOT VALID;`,
    ])
    expect(foreignKey.phase).toBe('contract')
    expect(foreignKey.effects).toEqual([expect.objectContaining({ kind: 'add_foreign_key', column: 'teamId', phase: 'contract' })])
  })

  test("loosening breaks no running code: the lint's own NOT NULL recipe reads as contract, loosening alone as expand", async () => {
    const addCheck = `ALTER TABLE "User" ADD CONSTRAINT "User_email_not_null" CHECK ("email" IS NOT NULL) NOT VALID;`
    const recipe = await lintLast([
      CREATE_USER,
      addCheck,
      `ALTER TABLE "User" VALIDATE CONSTRAINT "User_email_not_null";\n` +
        `ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\n` +
        `ALTER TABLE "User" DROP CONSTRAINT "User_email_not_null";`,
    ])
    expect(recipe.phase).toBe('contract')
    expect(recipe.effects.map(({ kind, phase, column }) => ({ kind, phase, column }))).toEqual([
      { kind: 'validate_constraint', phase: 'contract', column: 'email' },
      { kind: 'set_not_null', phase: 'contract', column: 'email' },
      { kind: 'drop_constraint', phase: 'loosen', column: 'email' },
    ])

    const loosenOnly = await lintLast([
      CREATE_USER,
      addCheck,
      `ALTER TABLE "User" DROP CONSTRAINT "User_email_not_null";\nALTER TABLE "User" ALTER COLUMN "name" SET DEFAULT 'x';`,
    ])
    expect(loosenOnly.phase).toBe('expand')
    expect(loosenOnly.phaseReason).toContain('only loosens')

    const dropWithLoosening = await lintLast([
      CREATE_USER,
      `ALTER TABLE "User" ALTER COLUMN "name" DROP NOT NULL;\nALTER TABLE "User" DROP COLUMN "email";`,
    ])
    expect(dropWithLoosening.phase).toBe('contract')
    const addWithLoosening = await lintLast([
      CREATE_USER,
      `ALTER TABLE "User" ADD COLUMN "bio" TEXT;\nALTER TABLE "User" ALTER COLUMN "name" DROP DEFAULT;`,
    ])
    expect(addWithLoosening.phase).toBe('expand')
  })

  test('still breaking: an addition with a tightening, and dropping what running code relies on', async () => {
    const addAndTighten = await lintLast([
      CREATE_USER,
      `ALTER TABLE "User" ADD COLUMN "bio" TEXT;\n` + `ALTER TABLE "User" ADD CONSTRAINT "User_name_check" CHECK ("name" <> '') NOT VALID;`,
    ])
    expect(addAndTighten.phase).toBe('breaking')
    // Prisma Client leaves columns with a database default out of its INSERTs: on a NOT NULL column that is a contract.
    const dropDefault = await lintLast([
      `CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "createdAt" TIMESTAMPTZ NOT NULL DEFAULT now());`,
      `ALTER TABLE "Post" ALTER COLUMN "createdAt" DROP DEFAULT;`,
    ])
    expect(dropDefault.phase).toBe('contract')
    const dropKey = await lintLast([
      `CREATE TABLE "Post" ("id" SERIAL, "slug" TEXT, CONSTRAINT "Post_slug_key" UNIQUE ("slug"));`,
      `ALTER TABLE "Post" ADD COLUMN "bio" TEXT;\nALTER TABLE "Post" DROP CONSTRAINT "Post_slug_key";`,
    ])
    expect(dropKey.phase).toBe('breaking')
  })

  test('breaking: a rename, or expand and contract in one migration, says to split it', async () => {
    const rename = await lintLast([CREATE_USER, `ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";`])
    expect(rename.phase).toBe('breaking')
    expect(rename.phaseReason).toContain('split it')
    expect(rename.effects).toEqual([expect.objectContaining({ kind: 'rename_column', table: 'User', column: 'name', to: 'fullName' })])

    const mixed = await lintLast([CREATE_USER, `ALTER TABLE "User" ADD COLUMN "fullName" TEXT;\nALTER TABLE "User" DROP COLUMN "name";`])
    expect(mixed.phase).toBe('breaking')
    expect(mixed.phaseReason).toMatch(/adds column User\.fullName .*drops column User\.name.*split it/)
  })

  test('neutral: comments, grants and settings change no schema', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `COMMENT ON TABLE "User" IS 'people';\nGRANT SELECT ON "User" TO reporting;\nSET lock_timeout = '1s';`,
    ])
    expect(analysis.phase).toBe('neutral')
    expect(analysis.effects).toEqual([])
  })

  test('analyzeMigration gives the gate a phase and effects for one file in a given context', async () => {
    const [first] = await analyzeMigrations([{ name: 'a', file: 'a.sql', sql: CREATE_USER }])
    const analysis = await analyzeMigration(`ALTER TABLE "User" DROP COLUMN "email";`, { migration: 'b', schema: first.schema })
    expect(analysis).toEqual(
      expect.objectContaining({
        phase: 'contract',
        effects: [expect.objectContaining({ kind: 'drop_column', table: 'User', column: 'email', line: 1 })],
      }),
    )
    // The context passed in is not changed by analysing another migration against it.
    expect(first.schema.column({ name: 'User' }, 'email')).toBeDefined()
  })
})

describe('ignore comments', () => {
  const drop = `ALTER TABLE "User" DROP COLUMN "name";`

  test('an ignore with a reason acknowledges the next statement only, and is kept as ignored', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `SET lock_timeout = '5s';\n-- migrate-kit-ignore ban-drop-column: no release reads name since v3\n${drop}\n` +
        `ALTER TABLE "User" DROP COLUMN "email";`,
    ])
    expect(at(analysis, 'ban-drop-column')).toEqual([expect.objectContaining({ line: 4 })])
    expect(analysis.ignored).toEqual([{ rule: 'ban-drop-column', line: 3, reason: 'no release reads name since v3' }])
  })

  test('several rules, a block comment and a comment trailing the statement on its line', async () => {
    const several = await lintLast([
      CREATE_USER,
      `/* migrate-kit-ignore ban-drop-column, require-lock-timeout: empty table in every environment */\n${drop}`,
    ])
    expect(rules(several)).toEqual([])
    const trailing = await lintLast([CREATE_USER, `${drop} -- migrate-kit-ignore ban-drop-column, require-lock-timeout: empty`])
    expect(rules(trailing)).toEqual([])
  })

  test('ignore-file applies to every statement of the file', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `-- migrate-kit-ignore-file ban-drop-column: the legacy columns go in one contract step\n` +
        `SET lock_timeout = '5s';\n${drop}\nALTER TABLE "User" DROP COLUMN "email";`,
    ])
    expect(rules(analysis)).toEqual([])
    expect(analysis.ignored).toHaveLength(2)
  })

  test('an ignore without a reason is not applied and is itself a warning', async () => {
    const analysis = await lintLast([CREATE_USER, `SET lock_timeout = '5s';\n-- migrate-kit-ignore ban-drop-column\n${drop}`])
    expect(analysis.findings).toEqual([
      expect.objectContaining({ rule: 'invalid-ignore-comment', level: 'warning', line: 2 }),
      expect.objectContaining({ rule: 'ban-drop-column', level: 'error', line: 3 }),
    ])
    expect(at(analysis, 'invalid-ignore-comment')[0]?.message).toContain('gives no reason')
  })

  test('an ignore naming an unknown rule is a warning and ignores nothing', async () => {
    const analysis = await lintLast([CREATE_USER, `SET lock_timeout = '5s';\n-- migrate-kit-ignore ban-drop-colum: typo\n${drop}`])
    expect(rules(analysis)).toEqual(['invalid-ignore-comment', 'ban-drop-column'])
    expect(at(analysis, 'invalid-ignore-comment')[0]?.message).toContain('ban-drop-colum')
  })
})

describe('unparseable SQL and positions', () => {
  test('a syntax error is a finding with line, column and PostgreSQL message; the other statements are still linted', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `SET lock_timeout = '5s';\nALTER TABLE "User" DROP COLUMN "name";\n  ALTER TABLE "User" ADD COLUMN "x" INTEGR NOT NULL DEFAULT 0 CHEK;\n` +
        `CREATE INDEX "User_email_idx" ON "User"("email");`,
    ])
    expect(analysis.findings).toEqual([
      expect.objectContaining({ rule: 'ban-drop-column', line: 2 }),
      expect.objectContaining({ rule: 'syntax-error', level: 'error', line: 3, column: 63 }),
      expect.objectContaining({ rule: 'require-concurrent-index-creation', line: 4 }),
    ])
    expect(at(analysis, 'syntax-error')[0]?.message).toContain('syntax error at or near "CHEK"')
    expect(analysis.statements).toBe(4)
  })

  test('an unterminated string: the statements before it are linted, the error points at the quote', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `SET lock_timeout = '5s';\nALTER TABLE "User" DROP COLUMN "name";\nUPDATE "User" SET "name" = 'oops;\n`,
    ])
    expect(rules(analysis)).toEqual(['ban-drop-column', 'syntax-error'])
    expect(at(analysis, 'syntax-error')[0]).toEqual(expect.objectContaining({ line: 3, column: 28 }))
    expect(at(analysis, 'syntax-error')[0]?.message).toContain('unterminated quoted string')
  })

  test('a `;` inside BEGIN ATOMIC does not split the function when another statement is broken', async () => {
    const analysis = await lintLast([`CREATE FUNCTION one() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 1; END;\nSELEC 1;`])
    expect(analysis.findings).toEqual([expect.objectContaining({ rule: 'syntax-error', line: 2, column: 1 })])
  })

  test('lines and columns stay right after multi-byte UTF-8 text (é, emoji) before the statement', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `-- Ajoute l'index du prénom 🎉🚀 (café)\n/* ünïcödé */ SET lock_timeout = '5s';\n-- ✓ déjà vu\n` +
        `CREATE INDEX "User_name_idx" ON "User"("name"); SELECT 'é🎉' AS "ok"; SELEC 'ü';`,
    ])
    expect(analysis.findings).toEqual([
      expect.objectContaining({ rule: 'require-concurrent-index-creation', line: 4 }),
      // 69 characters precede SELEC on its line; 'é🎉' is 2 characters but 6 bytes (and 3 UTF-16 units).
      expect.objectContaining({ rule: 'syntax-error', line: 4, column: 70 }),
    ])
  })

  test('an empty or comment-only migration is neutral and has no findings', async () => {
    for (const sql of ['', '-- This is an empty migration.\n']) {
      const analysis = await lintLast([sql])
      expect(analysis.findings).toEqual([])
      expect(analysis.phase).toBe('neutral')
    }
  })
})

test('lints 1,000 statements well under a second (timing logged)', async () => {
  const statements: string[] = []
  for (let index = 0; statements.length < 1000; index++) {
    statements.push(
      `ALTER TABLE "User" ADD COLUMN "c${index}" TEXT;`,
      `CREATE INDEX "User_c${index}_idx" ON "User"("c${index}");`,
      `-- migrate-kit-ignore ban-drop-column: unused since v${index}\nALTER TABLE "User" DROP COLUMN "legacy${index}";`,
      `UPDATE "User" SET "name" = 'n${index}' WHERE "id" = ${index};`,
    )
  }
  const [history] = await analyzeMigrations([{ name: 'init', file: 'init.sql', sql: CREATE_USER }])
  const sql = statements.slice(0, 1000).join('\n')
  const timings: number[] = []
  let analysis: MigrationAnalysis | undefined
  for (let run = 0; run < 3; run++) {
    const started = performance.now()
    analysis = await analyzeMigration(sql, { migration: 'big', schema: history.schema })
    timings.push(performance.now() - started)
  }
  console.log(`lint of ${analysis!.statements} statements: ${timings.map((ms) => ms.toFixed(1)).join(' ms, ')} ms (first, then warm)`)
  expect(analysis!.statements).toBe(1000)
  expect(analysis!.ignored.filter((ignored) => ignored.rule === 'ban-drop-column')).toHaveLength(250)
  expect(at(analysis!, 'require-concurrent-index-creation')).toHaveLength(250)
  expect(Math.min(...timings)).toBeLessThan(1000)
})

describe('findings the peers showed to be false or missing', () => {
  test('an enum renamed by Prisma earlier is followed: the next change names the real old type', async () => {
    const dance = (values: string) =>
      `CREATE TYPE "Role_new" AS ENUM (${values});\n` +
      `ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");\n` +
      `ALTER TYPE "Role" RENAME TO "Role_old";\nALTER TYPE "Role_new" RENAME TO "Role";\nDROP TYPE "Role_old";`
    const create = `CREATE TYPE "Role" AS ENUM ('A', 'B');\nCREATE TABLE "User" ("id" INTEGER, "role" "Role");`
    const third = await lintLast([create, dance(`'A', 'C'`), dance(`'C'`)])
    expect(at(third, 'changing-column-type')[0].message).toContain('(Role → Role_new)')
    const sameType = await lintLast([create, dance(`'A', 'C'`), `ALTER TABLE "User" ALTER COLUMN "role" SET DATA TYPE "Role";`])
    expect(rules(sameType)).not.toContain('changing-column-type')
  })

  test('phase reasons name statement kinds in words, never parser nodes (CREATE FUNCTION, CREATE TRIGGER)', async () => {
    const analysis = await lintLast([
      CREATE_USER,
      `CREATE FUNCTION "audit"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;`,
    ])
    expect(analysis.phaseReason).toBe('only backward-compatible additions (creates a function audit)')
    expect(analysis.phaseReason).not.toMatch(/Stmt/)
  })

  test('VALIDATE after an explicit COMMIT runs under SHARE UPDATE EXCLUSIVE: not reported; before it, it is', async () => {
    const add = `ALTER TABLE "User" ADD CONSTRAINT "User_id_check" CHECK ("id" > 0) NOT VALID;`
    const validate = `ALTER TABLE "User" VALIDATE CONSTRAINT "User_id_check";`
    const committed = await lintLast([CREATE_USER, `BEGIN;\n${add}\nCOMMIT;\n${validate}`])
    expect(rules(committed)).not.toContain('constraint-missing-not-valid')
    const together = await lintLast([CREATE_USER, `BEGIN;\n${add}\n${validate}\nCOMMIT;`])
    expect(at(together, 'constraint-missing-not-valid')).toEqual([
      expect.objectContaining({ line: 3, message: expect.stringContaining('ACCESS EXCLUSIVE lock taken by the ADD is still held') }),
    ])
  })

  test('text → citext keeps the table (measured: same relfilenode) and rebuilds its indexes: a warning that says so', async () => {
    const analysis = await lintLast([CREATE_USER, `ALTER TABLE "User" ALTER COLUMN "email" SET DATA TYPE CITEXT;`])
    expect(at(analysis, 'changing-column-type')).toEqual([
      expect.objectContaining({ level: 'warning', message: expect.stringContaining('no rewrite') }),
    ])
  })

  test.each([
    ['REINDEX TABLE "User";', true],
    ['REINDEX INDEX "User_email_key";', true],
    ['VACUUM FULL "User";', true],
    ['REFRESH MATERIALIZED VIEW "UserStats";', true],
    ['DROP VIEW "ActiveUsers";', true],
    ['REINDEX TABLE CONCURRENTLY "User";', false],
    ['VACUUM "User";', false],
    ['ALTER TABLE "User" SET (fillfactor = 70);', false],
    ['ALTER TABLE "User" RESET (fillfactor);', false],
    ['ALTER TABLE "User" ALTER COLUMN "id" SET (n_distinct = 100);', false],
  ])('require-lock-timeout: %s → %s', async (sql, expected) => {
    const analysis = await lintLast([`${CREATE_USER}\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");`, sql])
    expect(rules(analysis).includes('require-lock-timeout')).toBe(expected)
  })
})
