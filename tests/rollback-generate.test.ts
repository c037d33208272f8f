import { readdirSync, readFileSync } from 'node:fs'
import { diffSchemas } from '../packages/prisma-migrate-kit/src/rollback/schema-diff'
import type { SchemaSnapshot } from '../packages/prisma-migrate-kit/src/rollback/snapshot'
import { runCli, type CliResult } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { PrismaSession } from './helpers/prisma-run'
import { createTempProject, type TempProject } from './helpers/project'
import { schemaOf } from './helpers/rollback'
import { assertBuilt } from './helpers/schema-engine'

// Writing rollbacks with the real Prisma CLI: `migrate-kit new` after a schema edit (Prisma writes migration.sql, we
// write rollback.sql from Prisma's diff of the history after → before), `rollbacks generate` for a migration made
// without us and then edited by hand, and at the end the proof that each generated rollback really reverts its
// migration on the development database: apply, roll back, compare the schema with the one before, apply again.

let db: TestDatabase
let project: TempProject
let prisma: PrismaSession
let started: Date
/**
 * The development database's schema before each new migration: `migrate dev` (inside `new`) applies the pending
 * migrations first, so right after a `new`, the database is at the migration before the one just written.
 */
const schemaBefore = new Map<string, SchemaSnapshot>()

function migrateKit(...args: string[]): Promise<CliResult> {
  return runCli(args, { cwd: project.root, env: { DATABASE_URL: db.url } })
}

function migrationFolders(): string[] {
  return readdirSync(project.path('prisma', 'migrations'))
    .filter((entry) => entry !== 'migration_lock.toml')
    .sort()
}

function folderNamed(suffix: string): string {
  const found = migrationFolders().filter((name) => name.endsWith(`_${suffix}`))
  expect(found).toHaveLength(1)
  return found[0]
}

function rollbackText(migration: string): string {
  return readFileSync(project.path('rollbacks', migration, 'rollback.sql'), 'utf8')
}

function editSchema(edit: (schema: string) => string): void {
  const file = project.path('prisma', 'schema.prisma')
  const before = readFileSync(file, 'utf8')
  const after = edit(before)
  expect(after).not.toBe(before)
  project.write('prisma/schema.prisma', after)
}

/** Every `WARNING (line N)` of a generated file, with the statement at line N. */
function warnedStatements(text: string): Array<{ message: string; statement: string }> {
  const lines = text.split('\n')
  return [...text.matchAll(/^-- WARNING \(line (\d+)\): (.*)$/gm)].map((match) => ({
    message: match[2],
    statement: lines[Number(match[1]) - 1],
  }))
}

/** A model and an enum of their own, so that the edits never collide with the example app's schema. */
const ACHIEVEMENT_MODEL = `
enum AchievementKind {
  streak
  speed

  @@map("achievement_kind")
}

model Achievement {
  id     Int             @id @default(autoincrement())
  userId Int             @unique @map("user_id")
  kind   AchievementKind @default(streak)
  user   User            @relation(fields: [userId], references: [id], onDelete: Cascade)

  @@map("achievements")
}
`
/** Fields and an index added at the top of model User (Prisma takes block attributes anywhere in the block). */
const USER_ADDITIONS = '  timezone    String?      @map("time_zone")\n  achievement Achievement?\n  @@index([createdAt])\n'
const ENUM_VALUE = /(enum Difficulty \{[^}]*?)(\n\n {2}@@map\("difficulty"\))/

beforeAll(async () => {
  assertBuilt()
  started = new Date()
  db = await createTestDatabase('rollback_generate')
  project = createTempProject()
  prisma = new PrismaSession(project.root, db.url)
})

afterAll(async () => {
  if (process.env.MIGRATE_KIT_TIMINGS) console.log(`seconds per prisma command (offline engine):\n${prisma.timingReport()}`)
  project?.remove()
  await db?.drop()
})

test('`new` with no schema change says so, writes nothing and leaves no empty migration folder', async () => {
  const folders = migrationFolders()
  const result = await migrateKit('new', 'nothing_changed')
  expect(result.code).toBe(0)
  expect(result.stdout).toMatch(
    /No schema change: prisma\/schema.prisma matches the migrations, so no migration and no rollback were written/,
  )
  expect(migrationFolders()).toEqual(folders)
  expect(readdirSync(project.path('rollbacks'))).toEqual(folders)
})

test('`new --empty` makes the empty migration Prisma offers for SQL it does not model, and a rollback to finish by hand', async () => {
  const result = await migrateKit('new', 'check_constraint', '--empty')
  expect(result.code).toBe(0)
  const migration = folderNamed('check_constraint')
  expect(readFileSync(project.path('prisma', 'migrations', migration, 'migration.sql'), 'utf8')).toMatch(/empty migration/i)
  expect(rollbackText(migration)).toMatch(/Prisma found no schema difference to revert/)
  expect(result.stdout).toContain(
    `Write the SQL in prisma/migrations/${migration}/migration.sql and its inverse in rollbacks/${migration}/rollback.sql`,
  )
})

test('`new` after adding a table, a column, an index, an enum type, an enum value and a foreign key', async () => {
  editSchema(
    (schema) =>
      `${schema.replace(ENUM_VALUE, '$1\n  legendary$2').replace('model User {\n', `model User {\n${USER_ADDITIONS}`)}${ACHIEVEMENT_MODEL}`,
  )
  const result = await migrateKit('new', 'add_achievements')
  expect(result.stderr).not.toMatch(/error/)
  expect(result.code).toBe(0)
  const migration = folderNamed('add_achievements')
  schemaBefore.set(migration, await schemaOf(db))
  // Prisma wrote the migration; we only read it.
  const forward = readFileSync(project.path('prisma', 'migrations', migration, 'migration.sql'), 'utf8')
  expect(forward).toContain('CREATE TABLE "achievements"')
  expect(forward).toContain(`ALTER TYPE "difficulty" ADD VALUE 'legendary'`)

  const text = rollbackText(migration)
  const lines = text.split('\n')
  expect(lines[0]).toBe(`-- Rollback of prisma/migrations/${migration}/migration.sql`)
  const generatedAt = new Date(/Generated by migrate-kit \S+ at (\S+) /.exec(text)![1])
  expect(generatedAt.getTime()).toBeGreaterThanOrEqual(started.getTime())
  expect(generatedAt.getTime()).toBeLessThanOrEqual(Date.now())
  // Every change reverted, in Prisma's words; Prisma's BEGIN/COMMIT around the enum swap is cut (rollback runs the
  // file in a transaction of its own).
  for (const statement of [
    'ALTER TABLE "public"."achievements" DROP CONSTRAINT "achievements_user_id_fkey";',
    'DROP INDEX "public"."users_created_at_idx";',
    'ALTER TABLE "public"."users" DROP COLUMN "time_zone";',
    'DROP TABLE "public"."achievements";',
    'DROP TYPE "public"."achievement_kind";',
  ]) {
    expect(lines).toContain(statement)
  }
  const swap = lines.find((line) => line.startsWith('CREATE TYPE "public"."difficulty_new" AS ENUM ('))
  expect(swap).toMatch(/'easy'/)
  expect(swap).not.toMatch(/'legendary'/)
  expect(lines.filter((line) => /^(BEGIN|COMMIT);/.test(line))).toEqual([])

  // One warning per data-destroying statement, each pointing at its statement's line in the file.
  expect(warnedStatements(text)).toEqual([
    { message: expect.stringMatching(/^removes 'legendary' from enum difficulty/), statement: swap },
    { message: expect.stringMatching(/^drops column users.time_zone/), statement: 'ALTER TABLE "public"."users" DROP COLUMN "time_zone";' },
    { message: expect.stringMatching(/^drops table achievements/), statement: 'DROP TABLE "public"."achievements";' },
    { message: expect.stringMatching(/^drops type achievement_kind/), statement: 'DROP TYPE "public"."achievement_kind";' },
  ])
  expect(text).toMatch(/To keep it: save them first: psql "\$DATABASE_URL" -c '\\copy \(SELECT "id", "time_zone" FROM "public"."users"\)/)

  // The new migration is linted: its findings and its phase.
  expect(result.stdout).toContain(`Prisma wrote prisma/migrations/${migration}/migration.sql`)
  expect(result.stdout).toContain(`Wrote rollbacks/${migration}/rollback.sql`)
  expect(result.stdout).toMatch(new RegExp(`Phases:\\n  ${migration}  (expand|contract|breaking|neutral)`))
  expect(result.stdout).toMatch(/1 migration linted: \d+ errors?, \d+ warnings?/)
})

test('`new` after dropping that table, column, index, enum type and foreign key: the rollback recreates them', async () => {
  editSchema((schema) => schema.replace(ACHIEVEMENT_MODEL, '').replace(USER_ADDITIONS, ''))
  const result = await migrateKit('new', 'drop_achievements')
  expect(result.code).toBe(0)
  const migration = folderNamed('drop_achievements')
  schemaBefore.set(migration, await schemaOf(db))
  const text = rollbackText(migration)
  for (const fragment of [
    'CREATE TYPE "public"."achievement_kind" AS ENUM (\'streak\', \'speed\');',
    'ALTER TABLE "public"."users" ADD COLUMN     "time_zone" TEXT;',
    'CREATE TABLE "public"."achievements" (',
    'CREATE INDEX "users_created_at_idx" ON "public"."users"("created_at" ASC);',
    'ALTER TABLE "public"."achievements" ADD CONSTRAINT "achievements_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE CASCADE ON UPDATE CASCADE;',
  ]) {
    expect(text).toContain(fragment)
  }
  // The migration destroys data; its rollback does not (it cannot bring the data back either: the table is empty).
  expect(warnedStatements(text)).toEqual([])
  expect(text).toContain('-- Destroys no data: every statement below only changes the schema.')
})

test('`rollbacks generate` reverts what a hand-edited migration.sql really does, and flags what Prisma cannot see', async () => {
  editSchema((schema) => schema.replace('model User {\n', 'model User {\n  bio String?\n'))
  expect((await prisma.run(['migrate', 'dev', '--create-only', '--name', 'add_bio'])).code).toBe(0)
  const migration = folderNamed('add_bio')
  schemaBefore.set(migration, await schemaOf(db))
  const sqlFile = project.path('prisma', 'migrations', migration, 'migration.sql')
  // Edited by hand after Prisma wrote it: a column schema.prisma does not know, and a view Prisma does not model.
  project.write(
    `prisma/migrations/${migration}/migration.sql`,
    `${readFileSync(sqlFile, 'utf8')}\nALTER TABLE "users" ADD COLUMN "nickname" VARCHAR(20) DEFAULT 'anon';\n\nCREATE VIEW "user_emails" AS SELECT "email" FROM "users";\n`,
  )
  const result = await migrateKit('rollbacks', 'generate')
  expect(result.code).toBe(0)
  // Only the migration without a rollback was written.
  expect(result.stdout.match(/^Wrote /gm)).toHaveLength(1)
  // No terminal and one migration to do: no progress line (tests/history-scale.test.ts has a long history).
  expect(result.stderr).not.toMatch(/ migrations \(\d+ %\)/)
  const text = rollbackText(migration)
  expect(text).toContain('ALTER TABLE "public"."users" DROP COLUMN "bio",\nDROP COLUMN "nickname";')
  // Found by running the rollback on a scratch database, not guessed from the statement kinds.
  expect(text).toMatch(/^-- REVIEW: not restored \(found by running this file on a scratch database\): view user_emails: exists after/m)
  expect(result.stdout).toContain(
    'review: not restored (found by running this file on a scratch database): view user_emails: exists after the rollback, absent before the migration; add its inverse by hand',
  )
  // What the header asks for: the inverse of the view, by hand.
  project.write(`rollbacks/${migration}/rollback.sql`, `${text}\nDROP VIEW "public"."user_emails";\n`)
})

test('`rollbacks generate` never overwrites a rollback.sql without --force', async () => {
  const migration = folderNamed('add_bio')
  const handEdited = rollbackText(migration)
  const refused = await migrateKit('rollbacks', 'generate', 'add_bio')
  expect(refused.code).toBe(2)
  expect(refused.stderr).toContain(`rollbacks/${migration}/rollback.sql exists already; nothing was written`)
  expect(refused.stderr).toContain(`npx migrate-kit rollbacks generate ${migration} --force`)
  expect(rollbackText(migration)).toBe(handEdited)

  const nothingToDo = await migrateKit('rollbacks', 'generate')
  expect(nothingToDo.code).toBe(0)
  expect(nothingToDo.stdout).toMatch(/Every migration has its rollback.sql: nothing to generate/)

  const forced = await migrateKit('rollbacks', 'generate', 'add_bio', '--force')
  expect(forced.code).toBe(0)
  expect(rollbackText(migration)).not.toContain('DROP VIEW')
  project.write(`rollbacks/${migration}/rollback.sql`, handEdited)
})

test('each generated rollback really reverts its migration: apply, roll back, same schema as before, apply again', async () => {
  expect((await prisma.run(['migrate', 'deploy'])).code).toBe(0)
  const applied = await schemaOf(db)
  // Newest first, one at a time, each compared with the schema from before its migration.
  const generated = migrationFolders().slice(-3).reverse()
  expect(generated.map((name) => name.replace(/^\d+_/, ''))).toEqual(['add_bio', 'drop_achievements', 'add_achievements'])
  for (const migration of generated) {
    const result = await migrateKit('rollback', migration)
    expect({ migration, code: result.code, stderr: result.stderr }).toEqual({ migration, code: 0, stderr: '' })
    const differences = diffSchemas(await schemaOf(db), schemaBefore.get(migration)!, { actual: 'after rollback', expected: 'before' })
    expect({ migration, differences }).toEqual({ migration, differences: [] })
  }
  // Prisma takes all three as not applied, and applies them again to the same schema.
  expect((await prisma.run(['migrate', 'deploy'])).code).toBe(0)
  expect(diffSchemas(await schemaOf(db), applied, { actual: 're-applied', expected: 'first applied' })).toEqual([])
})
