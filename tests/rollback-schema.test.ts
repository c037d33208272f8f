import { SchemaHistory, analyzeMigrations } from '../packages/prisma-migrate-kit/src/lint'
import { projectAt } from '../packages/prisma-migrate-kit/src/project'
import { checkRollbackPairs } from '../packages/prisma-migrate-kit/src/rollback/check'
import { dataLossWarnings } from '../packages/prisma-migrate-kit/src/rollback/data-loss'
import { rollbackHeader } from '../packages/prisma-migrate-kit/src/rollback/header'
import { diffSchemas } from '../packages/prisma-migrate-kit/src/rollback/schema-diff'
import { parseRollbackScript } from '../packages/prisma-migrate-kit/src/rollback/script'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { createTempProject, type TempProject } from './helpers/project'
import { addMigration, schemaOf } from './helpers/rollback'

// The pieces of paired rollbacks that need no Prisma: the catalog snapshot and its diff (the oracle verify-rollbacks
// relies on, so it must both see every kind of difference and ignore what is not the app's schema), the script
// checks `rollback` runs before starting, the data-loss warnings, and the static pair check for `check`.

let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase('rollback_schema')
})

afterAll(async () => {
  await db?.drop()
})

const LABELS = { actual: 'after rollback', expected: 'before' }

describe('schema snapshot and diff', () => {
  beforeEach(async () => {
    await db.query(`DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS migrate_kit CASCADE;
                    DROP SCHEMA IF EXISTS app CASCADE`)
    await db.query(`
      CREATE TYPE "difficulty" AS ENUM ('easy', 'hard');
      CREATE TABLE "users" (
        "id" SERIAL PRIMARY KEY,
        "email" TEXT NOT NULL,
        "nickname" VARCHAR(20) DEFAULT 'anon',
        "level" "difficulty" NOT NULL DEFAULT 'easy'
      );
      CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");
      CREATE TABLE "posts" ("id" SERIAL PRIMARY KEY, "user_id" INTEGER NOT NULL,
        CONSTRAINT "posts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);
      CREATE VIEW "emails" AS SELECT "email" FROM "users";
      CREATE FUNCTION "answer"() RETURNS integer LANGUAGE sql AS 'SELECT 42';`)
  })

  test('two snapshots of an unchanged schema are equal', async () => {
    expect(diffSchemas(await schemaOf(db), await schemaOf(db), LABELS)).toEqual([])
  })

  test('an extra column reads "exists after rollback, absent before"; a missing one the other way round', async () => {
    const before = await schemaOf(db)
    await db.query(`ALTER TABLE "users" ADD COLUMN "display_name" TEXT; ALTER TABLE "users" DROP COLUMN "nickname"`)
    const messages = diffSchemas(await schemaOf(db), before, LABELS).map((difference) => difference.message)
    expect(messages).toEqual([
      'column users.display_name: exists after rollback, absent before',
      'column users.nickname: absent after rollback, exists before',
    ])
  })

  test('column type, default and nullability changes are each named with both values', async () => {
    const before = await schemaOf(db)
    await db.query(`ALTER TABLE "users" ALTER COLUMN "nickname" TYPE VARCHAR(40), ALTER COLUMN "nickname" SET DEFAULT 'x',
                    ALTER COLUMN "nickname" SET NOT NULL`)
    const differences = diffSchemas(await schemaOf(db), before, LABELS)
    expect(differences.map(({ object, property, actual, expected }) => ({ object, property, actual, expected }))).toEqual([
      { object: 'column users.nickname', property: 'default', actual: "'x'::character varying", expected: "'anon'::character varying" },
      { object: 'column users.nickname', property: 'nullable', actual: 'NOT NULL', expected: 'NULL' },
      { object: 'column users.nickname', property: 'type', actual: 'character varying(40)', expected: 'character varying(20)' },
    ])
    expect(differences[2].message).toBe(
      'column users.nickname: type differs: "character varying(40)" after rollback vs "character varying(20)" before',
    )
  })

  test('an index with another definition reads "definition differs: … vs …"', async () => {
    const before = await schemaOf(db)
    await db.query(`DROP INDEX "users_email_key"; CREATE INDEX "users_email_key" ON "users" ("email", "id")`)
    const [difference, ...rest] = diffSchemas(await schemaOf(db), before, LABELS)
    expect(rest).toEqual([])
    expect(difference.message).toBe(
      'index users_email_key: definition differs: "CREATE INDEX users_email_key ON public.users USING btree (email, id)" ' +
        'after rollback vs "CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email)" before',
    )
  })

  test('enum values are compared in order, constraints by definition, views and functions by their text', async () => {
    const before = await schemaOf(db)
    await db.query(`
      ALTER TYPE "difficulty" ADD VALUE 'medium' BEFORE 'hard';
      ALTER TABLE "posts" DROP CONSTRAINT "posts_user_id_fkey",
        ADD CONSTRAINT "posts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE RESTRICT;
      CREATE OR REPLACE VIEW "emails" AS SELECT "email" FROM "users" WHERE "id" > 0;
      CREATE OR REPLACE FUNCTION "answer"() RETURNS integer LANGUAGE sql AS 'SELECT 43';`)
    const differences = diffSchemas(await schemaOf(db), before, LABELS)
    expect(differences.map(({ object, property }) => `${object} ${property}`)).toEqual([
      'enum difficulty values',
      'constraint posts.posts_user_id_fkey definition',
      'view emails definition',
      'function answer() definition',
    ])
    expect(differences[0].actual).toBe("'easy', 'medium', 'hard'")
  })

  test('a table left behind is reported once, not with every column, index and constraint of it', async () => {
    const before = await schemaOf(db)
    await db.query(`CREATE TABLE "profiles" ("id" SERIAL PRIMARY KEY, "bio" TEXT, "user_id" INTEGER REFERENCES "users" ("id"));
                    CREATE INDEX "profiles_bio_idx" ON "profiles" ("bio")`)
    const messages = diffSchemas(await schemaOf(db), before, LABELS).map((difference) => difference.message)
    // The SERIAL's sequence is an object of its own (owned by the column), so it is named too.
    expect(messages).toEqual([
      'sequence profiles_id_seq: exists after rollback, absent before',
      'table profiles: exists after rollback, absent before',
    ])
  })

  test("ignores Prisma's _prisma_migrations, schema migrate_kit and column order; sees other schemas", async () => {
    const before = await schemaOf(db)
    await db.query(`
      CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY, "migration_name" VARCHAR(255));
      CREATE SCHEMA migrate_kit; CREATE TABLE migrate_kit.rollbacks ("id" bigserial PRIMARY KEY);
      ALTER TABLE "users" DROP COLUMN "nickname"; ALTER TABLE "users" ADD COLUMN "nickname" VARCHAR(20) DEFAULT 'anon';`)
    expect(diffSchemas(await schemaOf(db), before, LABELS)).toEqual([])
    await db.query(`CREATE SCHEMA app; CREATE TABLE app.audit ("id" INTEGER)`)
    expect(diffSchemas(await schemaOf(db), before, LABELS).map((difference) => difference.message)).toEqual([
      'schema app: exists after rollback, absent before',
      'table app.audit: exists after rollback, absent before',
    ])
  })
})

describe('schema snapshot: names of 63 bytes and longer, and names that look alike', () => {
  // PostgreSQL keeps 63 bytes of an identifier; a key made of two of them (table.constraint) is longer. Each case
  // drops one object of two whose keys differ only after byte 63: the diff must name the dropped one.
  const TABLE = 'PlatformNotificationInteraction'
  const LONG = `t${'x'.repeat(62)}` // 63 bytes, the longest identifier PostgreSQL keeps

  beforeEach(async () => {
    await db.query(`DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS migrate_kit CASCADE`)
    await db.query(`
      CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);
      CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY);
      CREATE TABLE "${TABLE}" ("id" SERIAL PRIMARY KEY, "userId" INTEGER NOT NULL, "postId" INTEGER NOT NULL,
        CONSTRAINT "${TABLE}_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id"),
        CONSTRAINT "${TABLE}_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post" ("id"));
      CREATE TABLE "${LONG}" ("${LONG}" INTEGER, "${LONG.slice(0, 62)}y" INTEGER);`)
  })

  test('a dropped foreign key of a table with a long name is seen (keys are not cut to 63 bytes)', async () => {
    const before = await schemaOf(db)
    expect(Object.keys(before.objects)).toEqual(
      expect.arrayContaining([`constraint "${TABLE}"."${TABLE}_userId_fkey"`, `constraint "${TABLE}"."${TABLE}_postId_fkey"`]),
    )
    await db.query(`ALTER TABLE "${TABLE}" DROP CONSTRAINT "${TABLE}_userId_fkey"`)
    expect(diffSchemas(await schemaOf(db), before, LABELS).map((difference) => difference.message)).toEqual([
      `constraint "${TABLE}"."${TABLE}_userId_fkey": absent after rollback, exists before`,
    ])
  })

  test('two columns of 63-byte names differing in their last byte, on a table of a 63-byte name', async () => {
    const before = await schemaOf(db)
    await db.query(`ALTER TABLE "${LONG}" DROP COLUMN "${LONG}"`)
    expect(diffSchemas(await schemaOf(db), before, LABELS).map((difference) => difference.message)).toEqual([
      `column ${LONG}.${LONG}: absent after rollback, exists before`,
    ])
  })

  test('a name PostgreSQL cut to 63 bytes is compared as PostgreSQL keeps it', async () => {
    const before = await schemaOf(db)
    // 70 bytes given, 63 kept (PostgreSQL's NOTICE "identifier … will be truncated"): the same column as LONG.
    await db.query(`ALTER TABLE "${LONG}" DROP COLUMN "${LONG}zzzzzzz"`)
    expect(diffSchemas(await schemaOf(db), before, LABELS).map((difference) => difference.message)).toEqual([
      `column ${LONG}.${LONG}: absent after rollback, exists before`,
    ])
  })

  test('a table named "a.b" and a column b of table a are different objects', async () => {
    await db.query(`CREATE TABLE "a" ("b.c" INTEGER); CREATE TABLE "a.b" ("c" INTEGER)`)
    const before = await schemaOf(db)
    await db.query(`ALTER TABLE "a.b" DROP COLUMN "c"`)
    expect(diffSchemas(await schemaOf(db), before, LABELS).map((difference) => difference.message)).toEqual([
      'column "a.b".c: absent after rollback, exists before',
    ])
  })
})

describe('rollback scripts: what `rollback` refuses before starting', () => {
  test('statements are cut with their lines; BEGIN, COMMIT and CONCURRENTLY are problems with their line', async () => {
    const script = await parseRollbackScript(
      ['-- header', 'BEGIN;', 'DROP INDEX CONCURRENTLY "a_idx";', 'ALTER TABLE "users"', '  DROP COLUMN "bio";', 'COMMIT;', ''].join('\n'),
    )
    expect(script.statements.map(({ line, sql }) => ({ line, sql }))).toEqual([
      { line: 2, sql: 'BEGIN' },
      { line: 3, sql: 'DROP INDEX CONCURRENTLY "a_idx"' },
      { line: 4, sql: 'ALTER TABLE "users"\n  DROP COLUMN "bio"' },
      { line: 6, sql: 'COMMIT' },
    ])
    expect(script.problems.map((problem) => problem.line)).toEqual([2, 3, 6])
    expect(script.problems[0].message).toMatch(/would end or split the transaction/)
    expect(script.problems[1].message).toMatch(/CONCURRENTLY cannot run inside a transaction block/)
  })

  test('a syntax error is a problem with its line and column, and the other statements are still found', async () => {
    const script = await parseRollbackScript('DROP TABLE "a";\n\nDROP TABEL "b";\nDROP TABLE "c";\n')
    expect(script.problems).toEqual([{ line: 3, column: 6, message: expect.stringContaining('syntax error at or near "TABEL"') }])
    expect(script.statements.map((statement) => statement.line)).toEqual([1, 4])
  })
})

describe('data-loss warnings', () => {
  async function schemaAfter(...migrations: string[]): Promise<SchemaHistory> {
    const analyses = await analyzeMigrations(migrations.map((sql, index) => ({ name: `m${index}`, file: `m${index}.sql`, sql })))
    return analyses.at(-1)!.schema
  }

  test('dropped tables, columns, enum types and enum values, type changes and deletes each warn, at their line', async () => {
    const schema = await schemaAfter(
      `CREATE TYPE "difficulty" AS ENUM ('easy', 'hard'); CREATE TYPE "visibility" AS ENUM ('public', 'private');
       CREATE TABLE "users" ("id" SERIAL PRIMARY KEY, "bio" TEXT, "age" BIGINT);
       CREATE TABLE "puzzles" ("id" SERIAL, "difficulty" "difficulty" NOT NULL)`,
      `ALTER TYPE "difficulty" ADD VALUE 'nightmare'`,
    )
    const script = [
      'CREATE TYPE "public"."difficulty_new" AS ENUM (\'easy\', \'hard\');',
      'ALTER TABLE "public"."puzzles" ALTER COLUMN "difficulty" TYPE "public"."difficulty_new" USING ("difficulty"::text::"public"."difficulty_new");',
      'ALTER TYPE "public"."difficulty" RENAME TO "difficulty_old";',
      'ALTER TYPE "public"."difficulty_new" RENAME TO "difficulty";',
      'DROP TYPE "public"."difficulty_old";',
      'ALTER TABLE "public"."users" DROP COLUMN "bio", ALTER COLUMN "age" TYPE INTEGER;',
      'DELETE FROM "users" WHERE "id" > 10;',
      'DROP TABLE "public"."puzzles";',
      'DROP TYPE "public"."visibility";',
      'DROP INDEX "users_age_idx";',
    ].join('\n')
    const warnings = await dataLossWarnings(script, schema)
    expect(warnings.map(({ line, kind }) => `${line} ${kind}`)).toEqual([
      '1 remove_enum_values',
      '6 drop_column',
      '6 change_column_type',
      '7 delete_rows',
      '8 drop_table',
      '9 drop_type',
    ])
    expect(warnings[0].message).toMatch(/^removes 'nightmare' from enum difficulty: rows holding it make this rollback fail/)
    expect(warnings[0].remedy).toContain(
      `UPDATE "public"."puzzles" SET "difficulty" = '<a value that stays>' WHERE "difficulty" IN ('nightmare')`,
    )
    expect(warnings[1].message).toBe('drops column users.bio and every value in it; the rollback cannot bring them back')
    // The primary key is known from the history, so the saved values can be matched to their rows again.
    expect(warnings[1].remedy).toContain(`\\copy (SELECT "id", "bio" FROM "public"."users")`)
    expect(warnings[4].remedy).toContain(`pg_dump --data-only --table='"public"."puzzles"'`)
  })

  test('an enum swap that removes no value, and statements that lose nothing, warn nothing', async () => {
    const schema = await schemaAfter(`CREATE TYPE "level" AS ENUM ('a', 'b'); CREATE TABLE "t" ("id" INT, "level" "level")`)
    const script = [
      "CREATE TYPE \"level_new\" AS ENUM ('a', 'b', 'c');",
      'ALTER TABLE "t" ALTER COLUMN "level" TYPE "level_new" USING ("level"::text::"level_new");',
      'ALTER TYPE "level" RENAME TO "level_old";',
      'ALTER TYPE "level_new" RENAME TO "level";',
      'DROP TYPE "level_old";',
      'ALTER TABLE "t" ADD COLUMN "x" TEXT;',
      'DROP INDEX "t_idx";',
      'ALTER TABLE "t" DROP CONSTRAINT "t_fkey";',
    ].join('\n')
    expect(await dataLossWarnings(script, schema)).toEqual([])
  })

  test('a column re-added NOT NULL without a default cannot run on rows: warned, and the header still says no data is lost', async () => {
    const schema = await schemaAfter(`CREATE TABLE "users" ("id" SERIAL PRIMARY KEY, "display_name" TEXT NOT NULL)`)
    const script = [
      'ALTER TABLE "public"."users" ADD COLUMN "username" TEXT NOT NULL,',
      'ALTER COLUMN "display_name" DROP NOT NULL;',
      'ALTER TABLE "users" ADD COLUMN "tier" TEXT NOT NULL DEFAULT \'free\', ADD COLUMN "note" TEXT;',
    ].join('\n')
    const warnings = await dataLossWarnings(script, schema)
    expect(warnings.map(({ line, kind }) => `${line} ${kind}`)).toEqual(['1 fails_with_rows'])
    expect(warnings[0].message).toMatch(/re-adds users\.username as NOT NULL without a default, which fails on a table that has rows/)
    const header = rollbackHeader({
      migration: '20260101000000_x',
      migrationFile: 'prisma/migrations/20260101000000_x/migration.sql',
      generatedAt: new Date('2026-01-01T00:00:00Z'),
      toolVersion: '0.0.0',
      warnings,
      review: [],
      repairs: [],
      empty: false,
    }).join('\n')
    expect(header).toMatch(/WARNING \(line \d+\): re-adds users\.username/)
    expect(header).toMatch(/To make it run: edit it: add the column without NOT NULL/)
    expect(header).toContain('Destroys no data')
  })

  test('the header quotes each warning with the line of its statement in the final file', async () => {
    const body = 'ALTER TABLE "users" ADD COLUMN "a" TEXT;\n\nDROP TABLE "t";\n'
    const warnings = await dataLossWarnings(body, new SchemaHistory())
    const header = rollbackHeader({
      migration: '20260101000000_x',
      migrationFile: 'prisma/migrations/20260101000000_x/migration.sql',
      generatedAt: new Date('2026-01-01T00:00:00Z'),
      toolVersion: '0.0.0',
      warnings,
      review: [],
      repairs: [],
      empty: false,
    })
    const file = [...header, body].join('\n').split('\n')
    const quoted = Number(/WARNING \(line (\d+)\)/.exec(header.join('\n'))![1])
    expect(file[quoted - 1]).toBe('DROP TABLE "t";')
    expect(header[0]).toBe('-- Rollback of prisma/migrations/20260101000000_x/migration.sql')
    expect(header.join('\n')).toContain('2026-01-01T00:00:00.000Z')
    for (const line of header) expect(line === '' || line.startsWith('--')).toBe(true)
  })
})

describe('static rollback check (for `check`)', () => {
  let project: TempProject

  beforeEach(() => {
    project = createTempProject({ migrations: (name) => /_init$/.test(name) })
  })

  afterEach(() => project.remove())

  test("the example app's history passes", async () => {
    expect(await checkRollbackPairs(projectAt(project.root))).toEqual([])
  })

  test('a missing rollback, an orphaned rollback folder and an invalid rollback.sql are findings in the lint shape', async () => {
    addMigration(project, '20990101000000_add_bio', 'ALTER TABLE "users" ADD COLUMN "bio" TEXT;\n')
    addMigration(
      project,
      '20990102000000_add_age',
      'ALTER TABLE "users" ADD COLUMN "age" INT;\n',
      'BEGIN;\nALTER TABLE "users" DROP COLUMN "age";\nCOMMIT;\n',
    )
    project.write('rollbacks/20990103000000_renamed_since/rollback.sql', 'SELECT 1;\n')
    const findings = await checkRollbackPairs(projectAt(project.root))
    expect(findings).toEqual([
      {
        level: 'error',
        rule: 'rollback-missing',
        file: 'prisma/migrations/20990101000000_add_bio/migration.sql',
        line: 1,
        message: expect.stringContaining('has no rollbacks/20990101000000_add_bio/rollback.sql'),
        help: 'Generate it from the migration history, review it and commit it: npx migrate-kit rollbacks generate 20990101000000_add_bio',
      },
      expect.objectContaining({ level: 'error', rule: 'rollback-invalid', file: 'rollbacks/20990102000000_add_age/rollback.sql', line: 1 }),
      expect.objectContaining({ level: 'error', rule: 'rollback-invalid', file: 'rollbacks/20990102000000_add_age/rollback.sql', line: 3 }),
      expect.objectContaining({
        level: 'warning',
        rule: 'rollback-orphaned',
        file: 'rollbacks/20990103000000_renamed_since/rollback.sql',
        line: 1,
        message: expect.stringContaining('prisma/migrations/20990103000000_renamed_since does not exist'),
      }),
    ])
  })
})
