import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { createTestDatabase, databaseExists, type TestDatabase } from './helpers/database'
import { createTempProject, type TempProject } from './helpers/project'
import { PrismaSession } from './helpers/prisma-run'
import { assertBuilt } from './helpers/schema-engine'

// The real Prisma CLI (through runPrisma) with migrate-kit's offline schema engine, against a real PostgreSQL: every
// command later work builds on. One project and one database, changed step by step like a developer would.

const GENERATOR = `generator client {
  provider = "prisma-client"
  output   = "./generated/client"
}

datasource db {
  provider = "postgresql"
}
`

const AUTHOR_V1 = `${GENERATOR}
model Author {
  id   Int    @id @default(autoincrement())
  name String
}
`
const AUTHOR_V2 = AUTHOR_V1.replace('  name String\n', '  name String\n  bio  String?\n')
const AUTHOR_V3 = AUTHOR_V2.replace('  bio  String?\n', '  bio  String?\n  email String?\n')
const AUTHOR_V4 = AUTHOR_V3.replace('  email String?\n', '  email String?\n\n  @@index([name])\n')
/** Never migrated: only diffed against. */
const AUTHOR_V5 = AUTHOR_V4.replace('  email String?\n', '  email String?\n  country String?\n')

/** Migrations written by hand sort after the ones `migrate dev` names with today's timestamp. */
const MANUAL = '20990101000000_manual_table'
const FAILING = '20990102000000_fails_at_the_end'

let db: TestDatabase
let second: TestDatabase
let shadow: TestDatabase
let project: TempProject
let prisma: PrismaSession

async function columns(table: string): Promise<string[]> {
  const rows = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  )
  return rows.map((row) => row.column_name)
}

async function tableExists(name: string, target: TestDatabase = db): Promise<boolean> {
  const rows = await target.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [`public.${name}`])
  return rows[0].present
}

function migrationFolders(): string[] {
  return readdirSync(project.path('prisma', 'migrations'))
    .filter((entry) => entry !== 'migration_lock.toml')
    .sort()
}

function writeMigration(name: string, sql: string): void {
  project.write(`prisma/migrations/${name}/migration.sql`, sql)
}

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('prisma_offline')
  second = await createTestDatabase('prisma_offline_second')
  shadow = await createTestDatabase('prisma_offline_shadow')
  project = createTempProject({ exampleApp: false })
  project.write('prisma/schema.prisma', AUTHOR_V1)
  // A second config file for the same project, pointing at another database: how `migrate diff` compares two.
  project.write(
    'second.config.ts',
    readFileSync(project.path('prisma.config.ts'), 'utf8').replace("env('DATABASE_URL')", "env('SECOND_DATABASE_URL')"),
  )
  // And one with a shadow database of its own instead of a temporary one.
  project.write(
    'shadow.config.ts',
    readFileSync(project.path('prisma.config.ts'), 'utf8').replace(
      "url: env('DATABASE_URL')",
      "url: env('DATABASE_URL'), shadowDatabaseUrl: env('SHADOW_DATABASE_URL')",
    ),
  )
  prisma = new PrismaSession(project.root, db.url)
})

afterAll(async () => {
  if (process.env.MIGRATE_KIT_TIMINGS) console.log(`seconds per prisma command (offline engine):\n${prisma.timingReport()}`)
  project?.remove()
  await db?.drop()
  await second?.drop()
  await shadow?.drop()
})

afterEach(async () => {
  // The engine drops every shadow database before it answers the CLI; none may outlive the command.
  for (const name of prisma.shadowDatabases) expect(await databaseExists(name)).toBe(false)
})

describe('migrate dev, status and deploy', () => {
  test('migrate dev creates the first migration from the schema and applies it, using a real shadow database', async () => {
    const result = await prisma.run(['migrate', 'dev', '--name', 'init'])
    expect(result.code).toBe(0)
    const folders = migrationFolders()
    expect(folders).toEqual([expect.stringMatching(/^\d{14}_init$/)])
    expect(readFileSync(project.path('prisma', 'migrations', folders[0], 'migration.sql'), 'utf8')).toContain('CREATE TABLE "Author"')
    expect(readFileSync(project.path('prisma', 'migrations', 'migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"')
    expect(await columns('Author')).toEqual(['id', 'name'])
    expect(prisma.shadowDatabases.length).toBeGreaterThan(0)
  })

  test('migrate dev --create-only writes the next migration without applying it', async () => {
    project.write('prisma/schema.prisma', AUTHOR_V2)
    const result = await prisma.run(['migrate', 'dev', '--name', 'add_bio', '--create-only'])
    expect(result.code).toBe(0)
    expect(migrationFolders()).toEqual([expect.stringMatching(/_init$/), expect.stringMatching(/^\d{14}_add_bio$/)])
    expect(await columns('Author')).toEqual(['id', 'name'])
  })

  test('migrate status exits 1 while a migration is pending, and names it', async () => {
    const result = await prisma.run(['migrate', 'status'])
    expect(result.code).toBe(1)
    expect(result.stdout + result.stderr).toContain(migrationFolders()[1])
  })

  test('migrate dev applies the pending migration first, then creates and applies the next one', async () => {
    // The path where the WebAssembly engine's evaluateDataLoss needs its shadow database set up again (pitfall 5).
    project.write('prisma/schema.prisma', AUTHOR_V3)
    const result = await prisma.run(['migrate', 'dev', '--name', 'add_email'])
    expect(result.code).toBe(0)
    expect(migrationFolders().map((name) => name.replace(/^\d{14}_/, ''))).toEqual(['init', 'add_bio', 'add_email'])
    expect(await columns('Author')).toEqual(['id', 'name', 'bio', 'email'])
  })

  test('migrate deploy applies what is pending; status then exits 0', async () => {
    project.write('prisma/schema.prisma', AUTHOR_V4)
    expect((await prisma.run(['migrate', 'dev', '--name', 'index_name', '--create-only'])).code).toBe(0)
    expect((await prisma.run(['migrate', 'status'])).code).toBe(1)
    const deploy = await prisma.run(['migrate', 'deploy'])
    expect(deploy.code).toBe(0)
    expect(await db.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'Author' AND indexname = 'Author_name_idx'`)).toHaveLength(1)
    expect((await prisma.run(['migrate', 'status'])).code).toBe(0)
  })
})

describe('migrate diff', () => {
  test('--from-empty --to-schema --script prints the whole schema as SQL', async () => {
    const result = await prisma.run(['migrate', 'diff', '--from-empty', '--to-schema', 'prisma/schema.prisma', '--script'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('CREATE TABLE "Author"')
    expect(result.stdout).toContain('"bio" TEXT')
  })

  test('--from-migrations --to-schema replays the migrations on a shadow database: no difference, exit 0', async () => {
    const shadowsBefore = prisma.shadowDatabases.length
    const result = await prisma.run([
      'migrate',
      'diff',
      '--from-migrations',
      'prisma/migrations',
      '--to-schema',
      'prisma/schema.prisma',
      '--exit-code',
    ])
    expect(result.code).toBe(0)
    expect(prisma.shadowDatabases.length).toBeGreaterThan(shadowsBefore)
  })

  test('--from-config-datasource --to-schema --exit-code: 0 when the database matches, 2 with the SQL when not', async () => {
    const same = await prisma.run(['migrate', 'diff', '--from-config-datasource', '--to-schema', 'prisma/schema.prisma', '--exit-code'])
    expect(same.code).toBe(0)
    project.write('prisma/schema.prisma', AUTHOR_V5)
    const changed = await prisma.run([
      'migrate',
      'diff',
      '--from-config-datasource',
      '--to-schema',
      'prisma/schema.prisma',
      '--script',
      '--exit-code',
    ])
    expect(changed.code).toBe(2)
    expect(changed.stdout).toMatch(/ALTER TABLE "Author" ADD COLUMN\s+"country" TEXT/)
  })

  test('--from-schema --to-migrations gives the way back (the down script of a change)', async () => {
    try {
      const result = await prisma.run([
        'migrate',
        'diff',
        '--from-schema',
        'prisma/schema.prisma',
        '--to-migrations',
        'prisma/migrations',
        '--script',
      ])
      expect(result.code).toBe(0)
      // The side built from migrations names its schema: "public"."Author".
      expect(result.stdout).toMatch(/ALTER TABLE (?:"public"\.)?"Author" DROP COLUMN "country"/)
    } finally {
      project.write('prisma/schema.prisma', AUTHOR_V4)
    }
  })

  test('a CHECK constraint in the history (Prisma reads its type as a "char") diffs like on the native engine', async () => {
    // Prisma does not model CHECK constraints, so the diff is empty; what matters is that the engine reads them.
    cpSync(project.path('prisma', 'migrations'), project.path('check-history'), { recursive: true })
    project.write(
      'check-history/20990101000000_check/migration.sql',
      'ALTER TABLE "Author" ADD CONSTRAINT "author_name_present" CHECK ("name" <> \'\') NOT VALID;\n',
    )
    const shadowsBefore = prisma.shadowDatabases.length
    const result = await prisma.run([
      'migrate',
      'diff',
      '--from-migrations',
      'check-history',
      '--to-schema',
      'prisma/schema.prisma',
      '--exit-code',
    ])
    expect(result.stderr).not.toMatch(/unreachable|panic/i)
    expect(result.code).toBe(0)
    expect(prisma.shadowDatabases.length).toBeGreaterThan(shadowsBefore)
  })

  test('a second database is diffed through --config <another config file>', async () => {
    const result = await prisma.run(
      [
        'migrate',
        'diff',
        '--config',
        'second.config.ts',
        '--from-config-datasource',
        '--to-schema',
        'prisma/schema.prisma',
        '--script',
        '--exit-code',
      ],
      { env: { SECOND_DATABASE_URL: second.url } },
    )
    expect(result.code).toBe(2)
    expect(result.stdout).toContain('CREATE TABLE "Author"')
    // It only read the second database, and never wrote to either.
    expect(await tableExists('Author', second)).toBe(false)
  })
})

describe('a configured shadowDatabaseUrl', () => {
  const diffFromMigrations = [
    'migrate',
    'diff',
    '--config',
    'shadow.config.ts',
    '--from-migrations',
    'prisma/migrations',
    '--to-schema',
    'prisma/schema.prisma',
    '--exit-code',
  ]

  test('is used instead of a temporary database, and emptied before use', async () => {
    // What an earlier run can leave behind: replaying the migrations onto it would fail (P3006 … already exists).
    await shadow.query(`CREATE TABLE "Author" (id integer); CREATE SCHEMA leftover; CREATE TABLE leftover.t (id integer)`)
    const shadowsBefore = prisma.shadowDatabases.length
    const result = await prisma.run(diffFromMigrations, { env: { SHADOW_DATABASE_URL: shadow.url } })
    expect(result.stderr).not.toContain('P3006')
    expect(result.code).toBe(0)
    expect(prisma.shadowDatabases.length).toBe(shadowsBefore)
    expect(await shadow.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'leftover'`)).toEqual([])
  })

  test('is refused when it is the main database, which it would empty', async () => {
    const result = await prisma.run(diffFromMigrations, { env: { SHADOW_DATABASE_URL: db.url } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('appears to be the same as the main database')
    expect(await columns('Author')).toEqual(['id', 'name', 'bio', 'email'])
  })
})

describe('migrate resolve', () => {
  test('--applied records a migration that was never run, without running its SQL', async () => {
    writeMigration(MANUAL, 'CREATE TABLE manual_table (id integer);\n')
    const result = await prisma.run(['migrate', 'resolve', '--applied', MANUAL])
    expect(result.code).toBe(0)
    const rows = await db.query(`SELECT finished_at FROM _prisma_migrations WHERE migration_name = $1`, [MANUAL])
    expect(rows).toEqual([{ finished_at: expect.any(Date) }])
    expect(await tableExists('manual_table')).toBe(false)
  })

  test('a migration whose last statement fails leaves nothing applied and is reported as P3018', async () => {
    writeMigration(
      FAILING,
      [
        'CREATE TABLE half_done (id integer);',
        'INSERT INTO half_done VALUES (1), (1);',
        'ALTER TABLE half_done ADD PRIMARY KEY (id);',
        '',
      ].join('\n'),
    )
    const result = await prisma.run(['migrate', 'deploy'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('P3018')
    expect(result.stderr).toContain(FAILING)
    expect(result.stderr).toContain('23505')
    expect(await tableExists('half_done')).toBe(false)
    const rows = await db.query(`SELECT finished_at, rolled_back_at FROM _prisma_migrations WHERE migration_name = $1`, [FAILING])
    expect(rows).toEqual([{ finished_at: null, rolled_back_at: null }])
    expect((await prisma.run(['migrate', 'status'])).code).toBe(1)
  })

  test('--rolled-back marks the failed migration; the fixed one then deploys, $$ bodies with ; included', async () => {
    const resolve = await prisma.run(['migrate', 'resolve', '--rolled-back', FAILING])
    expect(resolve.code).toBe(0)
    const marked = await db.query(`SELECT rolled_back_at FROM _prisma_migrations WHERE migration_name = $1`, [FAILING])
    expect(marked).toEqual([{ rolled_back_at: expect.any(Date) }])

    writeMigration(
      FAILING,
      `CREATE TABLE half_done (id integer PRIMARY KEY, note text NOT NULL DEFAULT 'a;b');

CREATE FUNCTION half_done_label(n integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  label text;
BEGIN
  label := 'item;' || n;
  RETURN label;
END;
$$;
`,
    )
    const deploy = await prisma.run(['migrate', 'deploy'])
    expect(deploy.code).toBe(0)
    expect(await db.query(`SELECT half_done_label(7) AS label`)).toEqual([{ label: 'item;7' }])
    await db.query(`INSERT INTO half_done (id) VALUES (1)`)
    expect(await db.query(`SELECT note FROM half_done`)).toEqual([{ note: 'a;b' }])
    expect((await prisma.run(['migrate', 'status'])).code).toBe(0)
  })

  test('--rolled-back refuses a migration that did not fail (P3012)', async () => {
    const result = await prisma.run(['migrate', 'resolve', '--rolled-back', MANUAL])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('P3012')
  })
})

describe('db execute', () => {
  test('--file runs the whole script as one: $$ blocks and strings with ; work', async () => {
    const file = project.write(
      'scripts/seed.sql',
      `INSERT INTO "Author" (name, bio) VALUES ('Ada', 'semi;colon');
DO $$
BEGIN
  INSERT INTO "Author" (name) VALUES ('from;do');
END
$$;
`,
    )
    const result = await prisma.run(['db', 'execute', '--file', file])
    expect(result.code).toBe(0)
    expect(await db.query(`SELECT name, bio FROM "Author" ORDER BY id`)).toEqual([
      { name: 'Ada', bio: 'semi;colon' },
      { name: 'from;do', bio: null },
    ])
  })

  test('a script that fails at its end changes nothing', async () => {
    const file = project.write('scripts/broken.sql', `CREATE TABLE exec_partial (id integer);\nSELECT 1 / 0;\n`)
    const result = await prisma.run(['db', 'execute', '--file', file])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('division by zero')
    expect(await tableExists('exec_partial')).toBe(false)
  })
})

describe('db pull, migrate reset, generate', () => {
  test('db pull --print reads the database back as a Prisma schema', async () => {
    const result = await prisma.run(['db', 'pull', '--print'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/model Author \{[^}]*email\s+String\?/)
    expect(result.stdout).toContain('model half_done')
  })

  test('migrate reset --force empties the database and replays every migration', async () => {
    const result = await prisma.run(['migrate', 'reset', '--force'])
    expect(result.code).toBe(0)
    expect(await db.query(`SELECT count(*)::int AS authors FROM "Author"`)).toEqual([{ authors: 0 }])
    // reset runs every migration's SQL, the one only marked as applied before included
    expect(await tableExists('manual_table')).toBe(true)
    expect((await prisma.run(['migrate', 'status'])).code).toBe(0)
  })

  test('generate writes the client into prisma/generated/client without starting the engine', async () => {
    const shadowsBefore = prisma.shadowDatabases.length
    const result = await prisma.run(['generate'])
    expect(result.code).toBe(0)
    expect(existsSync(project.path('prisma', 'generated', 'client', 'client.ts'))).toBe(true)
    expect(result.stderr).not.toContain('Starting migrate-kit schema engine')
    expect(prisma.shadowDatabases.length).toBe(shadowsBefore)
  })
})
