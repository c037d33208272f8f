import { chmodSync, readFileSync } from 'node:fs'
import { runCli, type CliResult } from './helpers/cli'
import { closedPort, holdEmbeddedServer, postmastersOf, type HeldServer } from './helpers/embedded'
import { createTempProject, type TempProject } from './helpers/project'

// Through the real binary (bin/migrate-kit.js → dist/): `npm run build` first.
const SECRET = 'Sup3rS3cret'

let project: TempProject
/** A server that requires a password (the embedded one: scram-sha-256), for the wrong-password and missing-database cases. */
let server: HeldServer
let serverPassword: string

beforeAll(async () => {
  project = createTempProject({ exampleApp: false })
  chmodSync(project.root, 0o755)
  server = await holdEmbeddedServer(project.root)
  serverPassword = readFileSync(project.path('.migrate-kit', 'postgres.password'), 'utf8').trim()
})

afterAll(async () => {
  await server?.release()
  if (project) {
    expect(postmastersOf(server.dataDir)).toEqual([])
    project.remove()
  }
})

function status(env: Record<string, string | undefined>): Promise<CliResult> {
  return runCli(['status', '--json'], { cwd: project.root, env })
}

/** Exit 2, nothing on stdout, one `error:` line (then one line of advice), and no secret anywhere. */
function expectRefused(result: CliResult, secrets: string[] = [SECRET]): string {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' })
  const lines = result.stderr.split('\n').filter(Boolean)
  expect(lines).toHaveLength(2)
  expect(lines[0]).toMatch(/^error: /)
  for (const secret of secrets) expect(result.stdout + result.stderr).not.toContain(secret)
  return lines[0] ?? ''
}

describe('a DATABASE_URL that does not work: exit 2, one line naming host, port and database, never the password', () => {
  it('connection refused (a closed port)', async () => {
    const port = await closedPort()
    const line = expectRefused(await status({ DATABASE_URL: `postgresql://postgres:${SECRET}@127.0.0.1:${port}/appdb` }))
    expect(line).toBe(
      `error: cannot connect to database "appdb" on 127.0.0.1:${port}: connection refused (no PostgreSQL listening on 127.0.0.1:${port})`,
    )
  })

  it('unknown host', async () => {
    const line = expectRefused(await status({ DATABASE_URL: `postgresql://postgres:${SECRET}@no-such-host.invalid:5433/appdb` }))
    expect(line).toBe('error: cannot connect to database "appdb" on no-such-host.invalid:5433: host "no-such-host.invalid" not found')
  })

  it('missing database', async () => {
    const url = `postgresql://postgres:${serverPassword}@127.0.0.1:${server.port}/no_such_db`
    const line = expectRefused(await status({ DATABASE_URL: url }), [serverPassword])
    expect(line).toBe(`error: cannot connect to database "no_such_db" on 127.0.0.1:${server.port}: database "no_such_db" does not exist`)
  })

  it('wrong password against a server that requires one', async () => {
    const line = expectRefused(await status({ DATABASE_URL: `postgresql://postgres:${SECRET}@127.0.0.1:${server.port}/app` }))
    expect(line).toBe(`error: cannot connect to database "app" on 127.0.0.1:${server.port}: authentication failed for user "postgres"`)
  })

  it('a password given percent-encoded is not printed decoded either', async () => {
    const port = await closedPort()
    const result = await status({ DATABASE_URL: `postgresql://postgres:Sup3r%53%33cret@127.0.0.1:${port}/appdb` })
    expectRefused(result, [SECRET, 'Sup3r%53%33cret'])
  })

  it.each([
    ['a port that is not a number', `postgresql://postgres:${SECRET}@127.0.0.1:notaport/appdb`],
    ['no URL at all', `host=127.0.0.1 password=${SECRET}`],
    ['a port out of range', `postgresql://postgres:${SECRET}@127.0.0.1:99999/appdb`],
  ])('a malformed URL: %s', async (_label, url) => {
    const line = expectRefused(await status({ DATABASE_URL: url }))
    expect(line).toBe('error: DATABASE_URL is not a valid URL (expected postgresql://user:password@host:port/database)')
  })

  it.each([
    ['an empty', ''],
    ['a blank', '   '],
  ])('%s DATABASE_URL is refused, not taken as "use the embedded server"', async (_label, url) => {
    const line = expectRefused(await status({ DATABASE_URL: url }), [])
    expect(line).toBe('error: DATABASE_URL is set but empty')
  })

  it('a mysql:// URL', async () => {
    const line = expectRefused(await status({ DATABASE_URL: `mysql://root:${SECRET}@127.0.0.1:3306/app` }))
    expect(line).toBe('error: DATABASE_URL must be a PostgreSQL URL (postgresql://…), not mysql://…')
  })
})

describe('DATABASE_URL from the project .env file', () => {
  afterEach(() => project.write('.env', ''))

  it('is used when the environment has none', async () => {
    project.write('.env', `DATABASE_URL=postgresql://postgres:${serverPassword}@127.0.0.1:${server.port}/app\n`)
    const result = await status({})
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
    expect(JSON.parse(result.stdout)).toEqual({ migrations: [], backfills: [], splitChanges: [] })
  })

  it('is reported like one from the environment when it does not work', async () => {
    const port = await closedPort()
    project.write('.env', `DATABASE_URL="postgresql://postgres:${SECRET}@127.0.0.1:${port}/fromdotenv"\n`)
    const line = expectRefused(await status({}))
    expect(line).toContain(`database "fromdotenv" on 127.0.0.1:${port}: connection refused`)
  })

  it('loses to the environment', async () => {
    const port = await closedPort()
    project.write('.env', `DATABASE_URL=postgresql://postgres:${serverPassword}@127.0.0.1:${server.port}/app\n`)
    const line = expectRefused(await status({ DATABASE_URL: `postgresql://postgres:${SECRET}@127.0.0.1:${port}/fromenv` }))
    expect(line).toContain(`database "fromenv" on 127.0.0.1:${port}`)
  })
})
