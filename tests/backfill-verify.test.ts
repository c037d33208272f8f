import { backfillReadiness, findBackfill, loadAllBackfills, projectAt, withConnection, type BackfillReadiness } from 'prisma-migrate-kit'
import { backfillProject, type BackfillProject } from './helpers/backfill'
import { createTestDatabase, type TestDatabase } from './helpers/database'

let db: TestDatabase
let app: BackfillProject

beforeAll(async () => {
  db = await createTestDatabase('backfill_verify')
  // A uuid key: ranges are cut and compared in the key's own order, not as text or numbers.
  await db.query(`CREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), username text NOT NULL, display_name text)`)
  await db.query(
    `INSERT INTO users (username) SELECT CASE WHEN g % 250 = 0 THEN 'bot' ELSE 'user' END || g FROM generate_series(1, 1000) g`,
  )
  app = backfillProject(db)
})
afterAll(async () => {
  app.remove()
  await db.drop()
})

function displayNames(where: string): string {
  return `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'display_names',
  after: 'expand_display_name',
  before: 'contract_display_name',
  table: 'users',
  update: sql\`display_name = username\`,
  where: sql\`${where}\`,
  verify: sql\`SELECT id, username FROM users WHERE display_name IS NULL\`,
})
`
}

async function readiness(): Promise<BackfillReadiness> {
  const loaded = findBackfill(await loadAllBackfills(projectAt(app.project.root)), 'display_names')
  return withConnection(db.url, (client) => backfillReadiness(client, loaded))
}

test('a backfill waits for its `after` migration: exit 3 with the command that unblocks it', async () => {
  app.backfill('display_names.ts', displayNames(`display_name IS NULL AND username NOT LIKE 'bot%'`))
  await db.query(`CREATE TABLE _prisma_migrations (
    id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
    logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`)
  const blocked = await app.cli(['backfill', 'run', 'display_names'])
  expect(blocked.code).toBe(3)
  expect(blocked.stderr).toMatch(/backfill "display_names" runs after migration expand_display_name, which is not applied/)
  expect(blocked.stderr).toContain('migrate-kit deploy --until expand_display_name')
  await db.query(
    `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count)
     VALUES ('1', 'x', now(), '20260301120000_expand_display_name', 1)`,
  )
})

test('verify still finding rows after the last range fails the run, naming them; readiness says not ready', async () => {
  const run = await app.cli(['backfill', 'run', 'display_names', '--batch-size', '100'])
  expect(run.code).toBe(1)
  expect(run.stderr).toMatch(/verify returned 4 rows not done; first: \{"id":"[0-9a-f-]{36}","username":"bot\d+"\}/)
  expect(run.stderr).toContain('migrate-kit backfill run display_names --restart')
  expect(await readiness()).toMatchObject({ status: 'failed', done: false, ready: false })
})

test('fixed and run again from the start, it is done and verified; readiness re-checks verify live', async () => {
  app.backfill('display_names.ts', displayNames('display_name IS NULL'))
  const run = await app.cli(['backfill', 'run', 'display_names', '--restart'])
  expect(run.code).toBe(0)
  expect(run.stdout).toMatch(/display_names done: 1,000 rows, 4 changed, verified/)
  expect(await readiness()).toMatchObject({ name: 'display_names', status: 'done', done: true, verified: true, ready: true })
  // A row written by an app that does not fill display_name yet: the gate sees it at once.
  await db.query(`INSERT INTO users (username) VALUES ('late')`)
  expect(await readiness()).toMatchObject({ done: true, verified: false, ready: false, verify: { failures: 1 } })
})

function scores(precheck: string): string {
  return `import { defineBackfill, sql } from 'prisma-migrate-kit'

export default defineBackfill({
  name: 'scores',
  table: 'scores',
  update: sql\`value = to_int_or_null(raw)\`,
  where: sql\`value IS NULL AND raw IS NOT NULL\`,
  verify: sql\`SELECT id FROM scores WHERE raw IS NOT NULL AND value IS NULL\`,
  precheck: sql\`${precheck}\`,
})
`
}

test('a precheck returning rows stops the run before its first batch, naming them; --dry-run shows them; fixed, it runs', async () => {
  await db.query(`CREATE TABLE scores (id serial PRIMARY KEY, raw text, value integer)`)
  await db.query(`INSERT INTO scores (raw) SELECT CASE WHEN g % 100 = 0 THEN 'n/a' ELSE g::text END FROM generate_series(1, 300) g`)
  await db.query(`CREATE FUNCTION to_int_or_null(value text) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN RETURN value::integer; EXCEPTION WHEN others THEN RETURN NULL; END $$`)

  app.backfill('scores.ts', scores('SELECT id, raw FROM scores WHERE nope IS NULL'))
  const bad = await app.cli(['backfill', 'run', 'scores'])
  expect(bad.code).toBe(2)
  expect(bad.stderr).toMatch(/backfill "scores": precheck: column "nope" does not exist/)

  app.backfill('scores.ts', scores('SELECT id, raw FROM scores WHERE raw IS NOT NULL AND to_int_or_null(raw) IS NULL'))
  const refused = await app.cli(['backfill', 'run', 'scores', '--batch-size', '50'])
  expect(refused.code).toBe(2)
  expect(refused.stderr).toContain(
    'backfill scores did not start: precheck returned 3 rows the update cannot handle; first: {"id":100,"raw":"n/a"}',
  )
  expect(refused.stderr).toContain('nothing was changed')
  expect((await db.query(`SELECT count(*)::int AS n FROM scores WHERE value IS NOT NULL`))[0].n).toBe(0)
  const status = await app.cli(['backfill', 'status', 'scores', '--json'])
  expect(JSON.parse(status.stdout)).toMatchObject({ name: 'scores', status: 'pending', rowsDone: 0 })

  const dryRun = await app.cli(['backfill', 'run', 'scores', '--dry-run'])
  expect(dryRun.code).toBe(0)
  expect(dryRun.stdout).toContain('precheck returned 3 rows the update cannot handle; first: {"id":100,"raw":"n/a"}')
  expect(dryRun.stdout).toContain('a run refuses to start until they are fixed')

  await db.query(`UPDATE scores SET raw = '0' WHERE raw = 'n/a'`)
  const dryAgain = await app.cli(['backfill', 'run', 'scores', '--dry-run', '--json'])
  expect(JSON.parse(dryAgain.stdout)).toMatchObject({ dryRun: true, precheck: { failures: 0 } })
  const run = await app.cli(['backfill', 'run', 'scores', '--batch-size', '50'])
  expect(run.code).toBe(0)
  expect(run.stdout).toMatch(/scores done: 300 rows, 300 changed, verified/)
  expect((await db.query(`SELECT count(*)::int AS n FROM scores WHERE value = raw::integer`))[0].n).toBe(300)
})
