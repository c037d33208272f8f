import { spawn } from 'node:child_process'
import path from 'node:path'
import { childEnv, collect, type CliResult } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { REPO_ROOT } from './helpers/project'
import { prismaRows } from './helpers/rollback'
import { assertBuilt } from './helpers/schema-engine'

// `npm start` itself (scripts/start.ts) on a fresh database given by DATABASE_URL: the gate stops the first deploy,
// the seed and backfills run while username still exists, the second deploy passes the gate; a second `npm start`
// finds everything done and says so.

let db: TestDatabase

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('start')
})
afterAll(async () => {
  await db?.drop()
})

function start(...args: string[]): Promise<CliResult> {
  const jiti = path.join(REPO_ROOT, 'node_modules', 'jiti', 'lib', 'jiti-cli.mjs')
  const child = spawn(process.execPath, [jiti, 'scripts/start.ts', ...args], {
    cwd: REPO_ROOT,
    env: childEnv({ DATABASE_URL: db.url }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return collect(child, 180_000)
}

test('npm start: deploy stops at the gate, seed, backfills, deploy passes it, check passes; again: all already done', async () => {
  const first = await start('--users', '300')
  expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
  const output = first.stdout
  // The first deploy stops at the gate, naming the backfill and the command.
  expect(first.stderr).toContain(
    'deploy stopped at a gate: 20261123115833_contract_display_name_check (contract) waits for backfill users_display_name',
  )
  expect(first.stderr).toContain('  npx migrate-kit backfill run users_display_name')
  expect(output).toMatch(/Deploy: what may run now; the gate holds the contract +stopped at the gate \(exit 3\)/)
  expect(output).toMatch(/Seed demo data \(300 users\) +300 users, [\d,]+ completions/)
  expect(output).toMatch(/Backfill users_display_name +done and verified/)
  expect(output).toMatch(/Deploy again: the gate opens, the contract runs +migrations applied; integrity checks pass/)
  expect(output).toContain('check passed: 0 errors')
  // The order the story needs: the seed ran before the contract dropped username.
  expect(output.indexOf('Seed demo data')).toBeLessThan(
    output.indexOf('ok        2. migrate   applied 20261123115833_contract_display_name_check'),
  )
  expect((await prismaRows(db)).map((row) => row.migration_name)).toHaveLength(5)
  expect(await db.query(`SELECT count(*)::int AS users, count(display_name)::int AS named FROM users`)).toEqual([
    { users: 300, named: 300 },
  ])

  const second = await start('--users', '300')
  expect(second.code).toBe(0)
  expect(second.stdout).toMatch(/Backfill users_display_name +no longer needed/)
  expect(second.stdout).toContain('Everything was already done')
}, 240_000)
