import { Client } from 'pg'
import { ensureState, stateExists, STATE_SCHEMA } from '../packages/prisma-migrate-kit/src/state/schema'
import { createTestDatabase, type TestDatabase } from './helpers/database'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase('state_schema')
})
afterAll(() => db.drop())

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: db.url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

const widgets = {
  name: 'widgets',
  steps: ['CREATE TABLE widgets (id int PRIMARY KEY)', 'ALTER TABLE widgets ADD COLUMN label text'],
}

test('creates the migrate_kit schema and a component tables on first use, and only once', async () => {
  expect(await withClient((client) => stateExists(client, 'widgets'))).toBe(false)
  await withClient((client) => ensureState(client, widgets))
  await withClient((client) => ensureState(client, widgets))
  expect(await withClient((client) => stateExists(client, 'widgets'))).toBe(true)
  const columns = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'widgets' ORDER BY 1`,
    [STATE_SCHEMA],
  )
  expect(columns.map((column) => column.column_name)).toEqual(['id', 'label'])
  const versions = await db.query(`SELECT component, version FROM ${STATE_SCHEMA}.state_versions`)
  expect(versions).toEqual([{ component: 'widgets', version: 2 }])
})

test('runs only the steps added since the last version', async () => {
  await withClient((client) =>
    ensureState(client, { name: 'widgets', steps: [...widgets.steps, 'CREATE INDEX widgets_label ON widgets (label)'] }),
  )
  const indexes = await db.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname = 'widgets_label'`, [STATE_SCHEMA])
  expect(indexes).toHaveLength(1)
})

test('several processes creating the same state at once do not collide', async () => {
  const component = { name: 'gadgets', steps: ['CREATE TABLE gadgets (id int PRIMARY KEY)'] }
  await Promise.all(Array.from({ length: 6 }, () => withClient((client) => ensureState(client, component))))
  const versions = await db.query(`SELECT version FROM ${STATE_SCHEMA}.state_versions WHERE component = 'gadgets'`)
  expect(versions).toEqual([{ version: 1 }])
})

test('a failing step leaves nothing of the component behind', async () => {
  const broken = { name: 'broken', steps: ['CREATE TABLE half_made (id int)', 'ALTER TABLE no_such_table ADD COLUMN x int'] }
  await expect(withClient((client) => ensureState(client, broken))).rejects.toThrow(/no_such_table/)
  expect(await db.query(`SELECT to_regclass('${STATE_SCHEMA}.half_made') AS table`)).toEqual([{ table: null }])
  expect(await withClient((client) => stateExists(client, 'broken'))).toBe(false)
})
