import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { assertSupportedPrisma, isSupportedPrisma, PRISMA_SUPPORT } from '../packages/prisma-migrate-kit/src/prisma/support'
import { createAdopterProject, DEFAULT_SCHEMA, type AdopterProject } from './helpers/adopter'
import { createTestDatabase } from './helpers/database'
import { PACKAGE_ROOT } from './helpers/project'

// The user's own `prisma` decides which engine build runs: the offline engine pairs that release's
// build/schema_engine_bg.wasm with the wasm-bindgen glue of the same engine commit (we ship one per tested line).
// Each release gets a project installed from the packed tarball next to that release, and the daily commands.

describe('the supported range (no install)', () => {
  test('a release outside it is refused before Prisma runs, naming both versions and the range', () => {
    const fake = mkdtempSync(path.join(os.tmpdir(), 'mk-prisma-'))
    try {
      writeFileSync(path.join(fake, 'package.json'), JSON.stringify({ name: 'prisma', version: '7.0.0' }))
      expect(() => assertSupportedPrisma(fake, '0.1.0')).toThrow(
        new RegExp(
          `^prisma 7\\.0\\.0 \\(.*\\) is not supported by prisma-migrate-kit 0\\.1\\.0: it works with prisma >=7\\.4\\.0 <8 \\(tested: 7\\.4\\.0, `,
        ),
      )
    } finally {
      rmSync(fake, { recursive: true, force: true })
    }
  })

  test("package.json's peer range is the one the code checks", () => {
    const manifest = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>
    }
    expect(manifest.peerDependencies.prisma).toBe(PRISMA_SUPPORT.range)
  })

  test.each([
    ['7.4.0', true],
    ['7.8.0', true],
    ['7.9.1', true],
    ['7.10.1', true],
    ['7.3.9', false],
    ['7.0.0', false],
    ['6.19.0', false],
    ['8.0.0-rc.1', false],
    ['unknown', false],
  ])('prisma %s supported: %s', (version, supported) => {
    expect(isSupportedPrisma(version)).toBe(supported)
  })
})

// 7.10.1 (the example app's release) runs through every other adopter test; these are the oldest line we support,
// one in the middle, and the one before 7.10. (7.6.0 and 7.10.0 were run by hand through the same commands: an
// install per release costs the suite ≈25 s, and npm test must stay well under 10 minutes.)
const RELEASES = [
  { prisma: '7.4.0', glue: 'prisma-schema-engine-wasm-7.4' },
  { prisma: '7.8.0', glue: 'prisma-schema-engine-wasm-7.8' },
  { prisma: '7.9.1', glue: 'prisma-schema-engine-wasm-7.9' },
]

describe.each(RELEASES)('a project on prisma $prisma (packed package, offline engine)', ({ prisma, glue }) => {
  let project: AdopterProject

  beforeAll(async () => {
    project = await createAdopterProject({ prisma })
    project.write(
      'prisma/migrations/20261201090000_init/migration.sql',
      'CREATE TABLE "Customer" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL);\nCREATE UNIQUE INDEX "Customer_email_key" ON "Customer"("email");\n',
    )
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
  }, 300_000)
  afterAll(() => project?.remove())

  // One command per engine request the CLI makes: applyMigrations (deploy), devDiagnostic + createMigration + diff
  // against a shadow database (new), diagnoseMigrationHistory (status); and the engine called in-process by init and
  // new (diff of two databases) and verify-rollbacks (applyMigrations). The rest of the suite runs them all on 7.10.1.
  test('its own engine build runs with the glue of the same commit: init, plain prisma, deploy, new (shadow database), status, verify-rollbacks', async () => {
    const db = await createTestDatabase(`release_${prisma}`)
    try {
      const env = { DATABASE_URL: db.url }
      const run = (args: string[]) => project.bin('migrate-kit', args, { env, timeoutMs: 180_000 })
      const version = await run(['prisma', '-v'])
      expect(version.stdout).toMatch(new RegExp(`^prisma +: ${prisma.replace(/\./g, '\\.')}$`, 'm'))
      expect(version.stdout).toMatch(new RegExp(`WebAssembly from prisma/build, glue ${glue.replace(/\./g, '\\.')}\\)`))

      // README's adoption steps on this release: init (the config line, the history's rollbacks tried on a scratch
      // database), plain `npx prisma` offline through that line, then the daily commands.
      const init = await run(['init'])
      expect({ code: init.code, stderr: init.stderr }).toEqual({ code: 0, stderr: '' })
      expect(init.stdout).toContain('created      rollbacks/20261201090000_init/rollback.sql')
      const plain = await project.bin('prisma', ['migrate', 'status'], { env })
      expect(plain.stdout + plain.stderr).not.toMatch(/ENOTFOUND|binaries\.prisma\.sh/)
      expect({ code: plain.code, pending: plain.stdout.includes('20261201090000_init') }).toEqual({ code: 1, pending: true })

      expect((await run(['deploy'])).code).toBe(0)
      project.write('prisma/schema.prisma', DEFAULT_SCHEMA.replace('email String @unique', 'email String @unique\n  name  String?'))
      const created = await run(['new', 'add_name'])
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/error/i) })
      expect(created.stdout).toMatch(/Wrote .*rollbacks\/\d+_add_name\/rollback\.sql/)
      // Pending: the new migration is not applied yet (exit 1), which status reads through the engine.
      const status = await run(['status', '--json'])
      expect(status.code).toBe(1)
      expect(
        (JSON.parse(status.stdout) as { migrations: Array<{ state: string }> }).migrations.map((migration) => migration.state),
      ).toEqual(['applied', 'pending'])
      // verify-rollbacks calls this release's engine in-process (applyMigrations, as deploy does) for each round trip.
      const verify = await run(['verify-rollbacks', '--json'])
      expect({ code: verify.code, stderr: verify.stderr }).toEqual({ code: 0, stderr: '' })
      expect((JSON.parse(verify.stdout) as { migrations: Array<{ status: string }> }).migrations.map((m) => m.status)).toEqual(['ok', 'ok'])
    } finally {
      await db.drop()
    }
  }, 240_000)
})
