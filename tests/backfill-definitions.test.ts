import { rmSync } from 'node:fs'
import { backfillProject, type BackfillProject } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'

let db: TestDatabase
let app: BackfillProject

beforeAll(async () => {
  db = await createTestDatabase('backfill_definitions')
  await db.query(`CREATE TABLE items (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0, label text)`)
  await db.query(`INSERT INTO items (id, label) SELECT g, 'item ' || g FROM generate_series(1, 2000) g`)
  await db.query(`CREATE TABLE no_key (a integer, b integer)`)
  await db.query(`CREATE TABLE nullable_key (id integer, email text UNIQUE)`)
  app = backfillProject(db)
})
afterAll(async () => {
  app.remove()
  await db.drop()
})

const header = `import { defineBackfill, sql } from 'prisma-migrate-kit'\n`

function only(files: Record<string, string>): void {
  rmSync(app.project.path('backfills'), { recursive: true, force: true })
  for (const [file, source] of Object.entries(files)) app.backfill(file, source)
}

async function itemsFingerprint(): Promise<string> {
  const [row] = await db.query<{ md5: string }>(`SELECT md5(string_agg(id || ':' || n || ':' || label, ',' ORDER BY id)) AS md5 FROM items`)
  return row.md5
}

async function migrateKitSchemaExists(): Promise<boolean> {
  const [row] = await db.query<{ present: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'migrate_kit') AS present`)
  return row.present
}

/** Runs the backfill and checks the refusal: exit 2, the file and the reason named, nothing touched. */
async function expectRefused(name: string, ...reasons: RegExp[]): Promise<string> {
  const before = await itemsFingerprint()
  const result = await app.cli(['backfill', 'run', name])
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' })
  for (const reason of reasons) expect(result.stderr).toMatch(reason)
  expect(result.stderr).toMatch(/nothing was changed/)
  expect(await itemsFingerprint()).toBe(before)
  expect(await migrateKitSchemaExists()).toBe(false)
  return result.stderr
}

test('an unknown table is refused, naming the file and the table', async () => {
  only({ 'bad_table.ts': `${header}export default defineBackfill({ name: 'bad_table', table: 'itemz', update: sql\`n = 1\` })\n` })
  await expectRefused('bad_table', /backfills\/bad_table\.ts: backfill "bad_table": table: table "itemz" does not exist/)
})

test('an unknown column in update is refused with a caret under it', async () => {
  only({ 'bad_column.ts': `${header}export default defineBackfill({ name: 'bad_column', table: 'items', update: sql\`n = nope + 1\` })\n` })
  const stderr = await expectRefused(
    'bad_column',
    /backfills\/bad_column\.ts: backfill "bad_column": update: column "nope" does not exist \(SQLSTATE 42703\)/,
  )
  expect(stderr).toContain('n = nope + 1\n          ^')
})

test('a SQL syntax error in update, in where, or in verify is refused before any row is touched', async () => {
  only({ 'bad_update.ts': `${header}export default defineBackfill({ name: 'bad_update', table: 'items', update: sql\`n = n +\` })\n` })
  await expectRefused('bad_update', /bad_update\.ts: backfill "bad_update": update: syntax error/)

  only({
    'bad_where.ts': `${header}export default defineBackfill({ name: 'bad_where', table: 'items', update: sql\`n = 1\`, where: sql\`n = = 0\` })\n`,
  })
  await expectRefused('bad_where', /bad_where\.ts: backfill "bad_where": where: syntax error at or near "="/)

  only({
    'bad_verify.ts': `${header}export default defineBackfill({ name: 'bad_verify', table: 'items', update: sql\`n = 1\`, verify: sql\`SELECT id FROM items WHERE nope IS NULL\` })\n`,
  })
  await expectRefused('bad_verify', /bad_verify\.ts: backfill "bad_verify": verify: column "nope" does not exist/)
})

test('a table without a usable key is refused: no primary key, a nullable unique column, a column that is not unique', async () => {
  only({ 'no_key.ts': `${header}export default defineBackfill({ name: 'no_key', table: 'no_key', update: sql\`b = a\` })\n` })
  await expectRefused('no_key', /no_key\.ts: backfill "no_key": key: public\.no_key has no primary key.*\(it has none: add one\)/)

  only({
    'nullable.ts': `${header}export default defineBackfill({ name: 'nullable', table: 'nullable_key', key: 'email', update: sql\`id = 1\` })\n`,
  })
  await expectRefused('nullable', /key: "email" cannot be the key: "email" allows NULL/)

  only({
    'not_unique.ts': `${header}export default defineBackfill({ name: 'not_unique', table: 'items', key: 'n', update: sql\`label = 'x'\` })\n`,
  })
  await expectRefused('not_unique', /key: "n" cannot be the key: it is not the column list of a primary key or unique index/)
})

test('an update that writes its own key is refused', async () => {
  only({
    'moves_key.ts': `${header}export default defineBackfill({ name: 'moves_key', table: 'items', update: sql\`id = id + 100000\` })\n`,
  })
  await expectRefused('moves_key', /update: the update writes the key column "id"/)
})

test('every problem of a definition is reported at once', async () => {
  only({
    'many.ts': `${header}export default defineBackfill({ name: 'many', table: 'items', update: sql\`n = 1\`, snapshot: ['n', 'nope'], invalidate: ['item:{id}', 'item:{slug}'] })\n`,
  })
  await expectRefused(
    'many',
    /2 backfill definition problems/,
    /snapshot: column "nope" does not exist/,
    /invalidate: "item:\{slug\}" names \{slug\}/,
  )
})

test('a name used by two files is refused, naming both', async () => {
  only({
    'first.ts': `${header}export default defineBackfill({ name: 'same', table: 'items', update: sql\`n = 1\` })\n`,
    'second.ts': `${header}export default defineBackfill({ name: 'same', table: 'items', update: sql\`n = 2\` })\n`,
  })
  await expectRefused('same', /backfills\/second\.ts: backfill "same": name: the name "same" is already used by backfills\/first\.ts/)
})

test('a file that exports no backfill, or does not load, is refused by name, and blocks every run', async () => {
  only({
    'good.ts': `${header}export default defineBackfill({ name: 'good', table: 'items', update: sql\`n = 1\` })\n`,
    'no_export.ts': `${header}export const notABackfill = { name: 'x' }\n`,
    'broken.ts': `${header}export default defineBackfill({ name: 'broken', table: 'items', update: sql\`n = 1\`\n`,
  })
  await expectRefused('good', /backfills\/no_export\.ts: does not export a backfill/, /backfills\/broken\.ts: cannot be loaded/)
})

test('update and process together (from JavaScript, where types do not help) are refused', async () => {
  only({
    'both.js': `const { defineBackfill, sql } = require('prisma-migrate-kit')\nmodule.exports = defineBackfill({ name: 'both', table: 'items', update: sql\`n = 1\`, process: async () => {} })\n`,
  })
  await expectRefused(
    'both',
    /backfills\/both\.js: bad definition: give exactly one of update \(sql`…`\), compute\(row\) or process\(rows, tx\)/,
  )
})

test('an unknown backfill name lists the known ones', async () => {
  only({ 'good.ts': `${header}export default defineBackfill({ name: 'good', table: 'items', update: sql\`n = 1\` })\n` })
  const result = await app.cli(['backfill', 'run', 'nope'])
  expect(result.code).toBe(2)
  expect(result.stderr).toMatch(/no backfill named "nope" \(known: good\)/)
})

test('status and list read without creating anything, and show broken files', async () => {
  only({
    'good.ts': `${header}export default defineBackfill({ name: 'good', table: 'items', update: sql\`n = 1\` })\n`,
    'no_export.ts': `export const x = 1\n`,
  })
  const status = await app.cli(['status', '--json'])
  expect(status.code).toBe(0)
  expect(JSON.parse(status.stdout).backfills).toEqual([
    { name: 'good', status: 'pending', rowsDone: 0, rowsTotal: null },
    { name: 'no_export', status: 'pending', rowsDone: 0, rowsTotal: null, error: expect.stringMatching(/does not export a backfill/) },
  ])
  const list = await app.cli(['backfill', 'list'])
  expect(list.code).toBe(0)
  expect(list.stdout).toMatch(/good\s+backfills\/good\.ts\s+items\s+update\s+pending/)
  expect(list.stderr).toMatch(/no_export\.ts: does not export a backfill/)
  expect(await migrateKitSchemaExists()).toBe(false)
})
