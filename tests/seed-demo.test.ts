import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { Client } from 'pg'
import { runPrisma } from '../packages/prisma-migrate-kit/src/prisma/cli'
import { projectAt } from '../packages/prisma-migrate-kit/src/project'
import { seedDemo } from '../scripts/lib/demo-data'
import { childEnv } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { REPO_ROOT } from './helpers/project'

let db: TestDatabase
let client: Client

beforeAll(async () => {
  db = await createTestDatabase('seed_demo')
  const deploy = await runPrisma(projectAt(REPO_ROOT), ['migrate', 'deploy'], { databaseUrl: db.url })
  expect(deploy.code).toBe(0)
  client = new Client({ connectionString: db.url })
  await client.connect()
})
afterAll(async () => {
  await client.end()
  await db.drop()
})

/** A digest of every demo row, to compare two seeds without comparing millions of values by hand. */
async function digest(): Promise<string> {
  const { rows } = await client.query<{ digest: string }>(
    `SELECT md5(
       (SELECT string_agg(u::text, '|' ORDER BY id) FROM users u) ||
       (SELECT string_agg(p::text, '|' ORDER BY id) FROM daily_puzzles p) ||
       (SELECT string_agg(format('%s,%s,%s,%s', user_id, puzzle_id, seconds_taken, completed_at), '|' ORDER BY user_id, puzzle_id)
          FROM puzzle_completions)) AS digest`,
  )
  return rows[0].digest
}

test('fills users, a year of puzzles and about five completions per user', async () => {
  const result = await seedDemo(client, { users: 3000, seed: 7, chunkSize: 1000 })
  const [counts] = (
    await client.query<{ users: number; puzzles: number; completions: number }>(
      `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM daily_puzzles)::int AS puzzles,
              (SELECT count(*) FROM puzzle_completions)::int AS completions`,
    )
  ).rows
  expect(counts).toEqual({ users: 3000, puzzles: result.puzzles, completions: result.completions })
  expect(result.puzzles).toBe(365 * 3 * 4)
  expect(result.completions / result.users).toBeGreaterThan(4.5)
  expect(result.completions / result.users).toBeLessThan(5.5)
  // The sequences continue after the seeded ids, so the app's own inserts do not collide.
  const inserted = await client.query<{ id: number }>(
    `INSERT INTO users (email, display_name) VALUES ('new@example.com', 'new_user') RETURNING id`,
  )
  expect(inserted.rows[0].id).toBe(3001)
  await client.query(`DELETE FROM users WHERE id = 3001`)
})

test('every puzzle is a valid sudoku whose givens agree with its solution', async () => {
  const { rows } = await client.query<{ puzzle: string; solution: string }>(
    `SELECT puzzle->>'grid' AS puzzle, solution->>'grid' AS solution FROM daily_puzzles ORDER BY random() LIMIT 50`,
  )
  const digits = '123456789'
  for (const { puzzle, solution } of rows) {
    expect(solution).toMatch(/^[1-9]{81}$/)
    for (let unit = 0; unit < 9; unit++) {
      const row = [...Array(9).keys()].map((i) => solution[unit * 9 + i])
      const column = [...Array(9).keys()].map((i) => solution[i * 9 + unit])
      const box = [...Array(9).keys()].map((i) => solution[(Math.floor(unit / 3) * 3 + Math.floor(i / 3)) * 9 + (unit % 3) * 3 + (i % 3)])
      for (const group of [row, column, box]) expect([...group].sort().join('')).toBe(digits)
    }
    expect([...puzzle].every((cell, i) => cell === '.' || cell === solution[i])).toBe(true)
    expect(puzzle).toContain('.')
  }
})

test('the data already satisfies the app rules its integrity checks will enforce', async () => {
  const { rows } = await client.query<{ bad: number }>(
    `SELECT count(*)::int AS bad FROM users
      WHERE (subscription_tier = 'free' AND (subscription_status <> 'active' OR subscription_renews_at IS NOT NULL))
         OR (subscription_tier <> 'free' AND subscription_status IN ('active', 'trialing', 'past_due') AND subscription_renews_at IS NULL)
         OR (subscription_status = 'canceled' AND subscription_renews_at IS NOT NULL)`,
  )
  expect(rows[0].bad).toBe(0)
  const tiers = await client.query<{ tier: string }>(`SELECT DISTINCT subscription_tier::text AS tier FROM users ORDER BY 1`)
  expect(tiers.rows.map((row) => row.tier)).toEqual(['free', 'plus', 'pro'])
})

test('refuses to mix demo data into a database that has users, unless told to reset', async () => {
  await expect(seedDemo(client, { users: 10, seed: 7 })).rejects.toThrow(/already has users/)
  expect((await client.query('SELECT count(*)::int AS n FROM users')).rows[0]).toEqual({ n: 3000 })
})

test('the same seed gives the same rows; another seed gives others', async () => {
  const first = await digest()
  await seedDemo(client, { users: 3000, seed: 7, reset: true, chunkSize: 700 })
  expect(await digest()).toBe(first)
  await seedDemo(client, { users: 3000, seed: 8, reset: true })
  expect(await digest()).not.toBe(first)
})

test('scripts/seed-demo.ts runs from the command line', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules', 'jiti', 'lib', 'jiti-cli.mjs'), 'scripts/seed-demo.ts', '--users', '500', '--reset'],
    { cwd: REPO_ROOT, env: childEnv({ DATABASE_URL: db.url }) },
  )
  expect(stdout).toMatch(/Seeded 500 users, 4,380 puzzles and \d[\d,]* completions/)
  const refused = await promisify(execFile)(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules', 'jiti', 'lib', 'jiti-cli.mjs'), 'scripts/seed-demo.ts', '--users', 'many'],
    { cwd: REPO_ROOT, env: childEnv({ DATABASE_URL: db.url }) },
  ).catch((error: { code: number; stderr: string }) => error)
  expect(refused).toMatchObject({ code: 2 })
})
