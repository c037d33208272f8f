import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { createAdopterProject, type AdopterProject } from './helpers/adopter'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { REPO_ROOT } from './helpers/project'

// README.md's "Adopting it in your project" example, run as written: its files (each block opens with `// <path>`)
// make a project from the packed package, and its commands run in order, each expected to exit 0.

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')
const section = readme.slice(
  readme.indexOf('## Adopting it in your project'),
  readme.indexOf('\n## ', readme.indexOf('## Adopting it in your project') + 1),
)
const blocks = [...section.matchAll(/```(\w+)\n([^]*?)```/g)].map((match) => ({ language: match[1], text: match[2] }))

function exampleFiles(): Record<string, string> {
  const files: Record<string, string> = {}
  for (const { text } of blocks) {
    const header = /^\/\/ (\S+)/.exec(text)
    if (!header) continue
    files[header[1]] = text.slice(text.indexOf('\n') + 1)
  }
  return files
}

function exampleCommands(): string[] {
  const shell = blocks.find((block) => block.language === 'sh')
  return (shell?.text ?? '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean)
}

describe("README's adoption example", () => {
  let project: AdopterProject
  let db: TestDatabase

  beforeAll(async () => {
    const files = exampleFiles()
    const { 'package.json': manifestPart, ...projectFiles } = files
    project = await createAdopterProject({ files: projectFiles })
    // The README shows only the part of package.json migrate-kit reads: merged into the project's own.
    const manifest = JSON.parse(project.read('package.json')) as Record<string, unknown>
    project.write('package.json', JSON.stringify({ ...manifest, ...(JSON.parse(manifestPart) as Record<string, unknown>) }, null, 2))
    project.write('src/index.ts', 'export {}\n')
    db = await createTestDatabase('readme_adoption')
  }, 300_000)

  afterAll(async () => {
    project?.remove()
    await db?.drop()
  })

  test('shows the config, the package.json part, a multi-file schema and the commands', () => {
    expect(Object.keys(exampleFiles()).sort()).toEqual([
      'db/schema/customer.prisma',
      'db/schema/datasource.prisma',
      'package.json',
      'prisma.config.ts',
    ])
    expect(exampleCommands().filter((line) => line.startsWith('npx migrate-kit')).length).toBeGreaterThanOrEqual(5)
  })

  test('every command exits 0 and acts on db/', async () => {
    let cwd = project.root
    for (const line of exampleCommands()) {
      const [program, ...args] = line.split(/\s+/)
      if (program === 'cd') {
        cwd = path.join(cwd, args[0])
        continue
      }
      expect(program).toBe('npx')
      expect(args[0]).toBe('migrate-kit')
      const result = await project.bin('migrate-kit', args.slice(1), { cwd, env: { DATABASE_URL: db.url } })
      expect({ line, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ line, code: 0, stderr: '' })
    }
    const migrations = readdirSync(project.path('db', 'migrations')).filter((entry) => entry !== 'migration_lock.toml')
    expect(migrations).toEqual([expect.stringMatching(/^\d{14}_init$/)])
    expect(existsSync(project.path('db', 'rollbacks', migrations[0], 'rollback.sql'))).toBe(true)
    expect(existsSync(project.path('prisma'))).toBe(false)
    // init set up the folders the project's package.json names, and the config line for plain `npx prisma`.
    expect(existsSync(project.path('db', 'backfills', '.gitkeep'))).toBe(true)
    expect(project.read('prisma.config.ts').split('\n')[1]).toMatch(/^import 'prisma-migrate-kit\/offline-engine'/)
    expect(project.read('.github/workflows/migrate-kit.yml')).toContain('run: npx migrate-kit check')
    expect(existsSync(project.path('src', '.migrate-kit'))).toBe(false)
    expect(await db.query(`SELECT to_regclass('"Customer"') IS NOT NULL AS made`)).toEqual([{ made: true }])
  })
})
