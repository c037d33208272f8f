import { readFileSync } from 'node:fs'
import path from 'node:path'
import { runCli } from './helpers/cli'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { createTempProject, REPO_ROOT, type TempProject } from './helpers/project'
import { assertBuilt } from './helpers/schema-engine'

// README's "Deploying" section shows what plan and deploy print: it must be what they print (tests/readme.test.ts
// checks that every command it shows exists).

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`)
  expect(start).toBeGreaterThanOrEqual(0)
  const next = readme.indexOf('\n## ', start + 1)
  return readme.slice(start, next === -1 ? undefined : next)
}

/** The first fenced block after a heading, without its `$ command` line. */
function exampleAfter(text: string, heading: string, nth = 0): string {
  let from = text.indexOf(heading)
  expect(from).toBeGreaterThanOrEqual(0)
  let block = ''
  for (let index = 0; index <= nth; index++) {
    const open = text.indexOf('```\n', from)
    const close = text.indexOf('\n```', open + 4)
    block = text.slice(open + 4, close)
    from = close + 4
  }
  return block
    .split('\n')
    .filter((line) => !line.startsWith('$ '))
    .join('\n')
}

/** Times and the database's address differ from run to run. */
const normalize = (text: string) =>
  text
    .replace(/\(\d+\.\d s\)/g, '(T s)')
    .replace(/^Deploy to .*\.$/m, 'Deploy to DB.')
    .trimEnd()

let db: TestDatabase
let app: TempProject

beforeAll(async () => {
  assertBuilt()
  db = await createTestDatabase('deploy_readme')
  app = createTempProject()
})
afterAll(async () => {
  app?.remove()
  await db?.drop()
})

test('the plan and the first deploy print exactly what README shows, on a fresh database', async () => {
  const text = section('Deploying: plan, deploy, check')
  const env = { DATABASE_URL: db.url }
  const plan = await runCli(['plan'], { cwd: app.root, env })
  expect(plan.code).toBe(0)
  expect(plan.stdout.trimEnd()).toBe(exampleAfter(text, '### `migrate-kit plan`'))

  const deploy = await runCli(['deploy'], { cwd: app.root, env })
  expect(deploy.code).toBe(3)
  expect(normalize(`${deploy.stdout}${deploy.stderr}`)).toBe(normalize(exampleAfter(text, '### `migrate-kit deploy')))
}, 60_000)
