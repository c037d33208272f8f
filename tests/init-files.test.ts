import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { addOfflineEngineImport } from '../packages/prisma-migrate-kit/src/init/config-line'
import { addIgnoreEntries } from '../packages/prisma-migrate-kit/src/init/gitignore'
import { applyInitFiles, planInitFiles } from '../packages/prisma-migrate-kit/src/init/plan'
import { ciWorkflow, detectPackageManager, workflowRunningMigrateKit } from '../packages/prisma-migrate-kit/src/init/workflow'
import { projectAt } from '../packages/prisma-migrate-kit/src/project'

// The file edits of `migrate-kit init`, without Prisma or a database: each is added once, where it works, and a
// second plan over the result changes nothing. tests/init.test.ts runs the command from the packed package.

const PRISMA_INIT_CONFIG = `import 'dotenv/config'\nimport { defineConfig, env } from 'prisma/config'\n\nexport default defineConfig({})\n`

describe('the offline-engine line in the Prisma config', () => {
  test('goes right after dotenv (a PRISMA_SCHEMA_ENGINE_BINARY in .env is seen first), once', () => {
    const change = addOfflineEngineImport(PRISMA_INIT_CONFIG, 'prisma.config.ts')
    expect(change?.line).toBe(2)
    expect(change?.text.split('\n').slice(0, 3)).toEqual([
      "import 'dotenv/config'",
      "import 'prisma-migrate-kit/offline-engine' // prisma-migrate-kit: Prisma's schema engine works offline when the native one is missing",
      "import { defineConfig, env } from 'prisma/config'",
    ])
    expect(addOfflineEngineImport(change!.text, 'prisma.config.ts')).toBeUndefined()
    expect(addOfflineEngineImport(`import "prisma-migrate-kit/offline-engine";\n${PRISMA_INIT_CONFIG}`, 'prisma.config.ts')).toBeUndefined()
  })

  test('first without dotenv, below a shebang or "use strict"; a require in a .cjs config; CRLF kept', () => {
    expect(addOfflineEngineImport("import { defineConfig } from 'prisma/config'\n", 'prisma.config.mts')?.line).toBe(1)
    const cjs = addOfflineEngineImport("'use strict'\nrequire('dotenv').config()\nmodule.exports = {}\n", 'prisma.config.cjs')
    expect(cjs?.text.split('\n')[2]).toMatch(/^require\('prisma-migrate-kit\/offline-engine'\) \/\/ /)
    expect(addOfflineEngineImport("#!/usr/bin/env node\n'use strict'\nmodule.exports = {}\n", 'prisma.config.cjs')?.line).toBe(3)
    const crlf = addOfflineEngineImport("import 'dotenv/config'\r\nexport default {}\r\n", 'prisma.config.ts')
    expect(crlf?.text).toBe(
      "import 'dotenv/config'\r\nimport 'prisma-migrate-kit/offline-engine' // prisma-migrate-kit: Prisma's schema engine works offline when the native one is missing\r\nexport default {}\r\n",
    )
  })
})

describe('.gitignore', () => {
  test('.migrate-kit/ is added once, with why; spellings that already cover it are left alone', () => {
    expect(addIgnoreEntries(undefined)?.text).toBe('# the embedded PostgreSQL and local caches of prisma-migrate-kit\n.migrate-kit/\n')
    const added = addIgnoreEntries('node_modules\n.env')
    expect(added?.text).toBe('node_modules\n.env\n\n# the embedded PostgreSQL and local caches of prisma-migrate-kit\n.migrate-kit/\n')
    expect(addIgnoreEntries(added!.text)).toBeUndefined()
    for (const spelling of ['.migrate-kit', '/.migrate-kit/', '**/.migrate-kit', '.migrate-kit/**']) {
      expect({ spelling, change: addIgnoreEntries(`node_modules\n${spelling}\n`) }).toEqual({ spelling, change: undefined })
    }
    // A comment or a negation does not count.
    expect(addIgnoreEntries('# .migrate-kit/\n')?.added).toEqual(['.migrate-kit/'])
  })
})

describe('the CI workflow', () => {
  test("runs lint (as annotations), deploy, check and verify-rollbacks with the project's package manager, folder and URL variable", () => {
    const npm = ciWorkflow({ packageManager: 'npm', workingDirectory: '', urlVariable: 'DATABASE_URL' })
    expect(npm).toContain('      DATABASE_URL: postgresql://postgres:postgres@127.0.0.1:5432/postgres\n')
    expect(npm.match(/^ +(- )?run: .*$/gm)).toEqual([
      '      - run: npm ci',
      '        run: npx migrate-kit lint --format github',
      '        run: npx migrate-kit deploy --run-backfills',
      '        run: npx migrate-kit check',
      '        run: npx migrate-kit verify-rollbacks',
    ])
    expect(npm).not.toContain('working-directory')
    const pnpm = ciWorkflow({ packageManager: 'pnpm', workingDirectory: 'apps/api', urlVariable: 'APP_DATABASE_URL' })
    expect(pnpm).toContain('    defaults:\n      run:\n        working-directory: apps/api\n')
    expect(pnpm).toContain('      APP_DATABASE_URL: postgresql://')
    expect(pnpm).toContain('      - uses: pnpm/action-setup@v4\n')
    expect(pnpm).toContain('run: pnpm exec migrate-kit check')
    // No tab, and every line indented by a multiple of two: what YAML parsers accept.
    for (const line of [...npm.split('\n'), ...pnpm.split('\n')]) expect(/^( {2})*(\S|$)/.test(line) && !line.includes('\t')).toBe(true)
  })
})

describe('planInitFiles in a monorepo', () => {
  let repo: string
  beforeEach(() => {
    repo = mkdtempSync(path.join(os.tmpdir(), 'mk-init-'))
    mkdirSync(path.join(repo, '.git'))
    writeFileSync(path.join(repo, 'pnpm-lock.yaml'), '')
    mkdirSync(path.join(repo, 'apps', 'api', 'prisma'), { recursive: true })
    writeFileSync(path.join(repo, 'apps', 'api', 'prisma.config.ts'), PRISMA_INIT_CONFIG)
  })
  afterEach(() => rmSync(repo, { recursive: true, force: true }))

  test('the workflow goes to the repository root with the project as working directory; a second plan keeps everything', () => {
    const project = projectAt(path.join(repo, 'apps', 'api'))
    expect(detectPackageManager(project.root, repo).manager).toBe('pnpm')
    const plan = planInitFiles(project, { urlVariable: 'DATABASE_URL' })
    expect(plan.map(({ file, action }) => [path.relative(repo, file), action])).toEqual([
      ['apps/api/prisma.config.ts', 'update'],
      ['apps/api/backfills/.gitkeep', 'create'],
      ['apps/api/rollbacks/.gitkeep', 'create'],
      ['apps/api/.gitignore', 'create'],
      ['.github/workflows/migrate-kit.yml', 'create'],
    ])
    applyInitFiles(plan)
    expect(readFileSync(path.join(repo, '.github', 'workflows', 'migrate-kit.yml'), 'utf8')).toContain('working-directory: apps/api')
    expect(planInitFiles(project, { urlVariable: 'DATABASE_URL' }).map(({ action }) => action)).toEqual([
      'keep',
      'keep',
      'keep',
      'keep',
      'keep',
    ])
  })

  test("a workflow of the user's that runs migrate-kit is kept, and none is added beside it", () => {
    mkdirSync(path.join(repo, '.github', 'workflows'), { recursive: true })
    writeFileSync(path.join(repo, '.github', 'workflows', 'build.yml'), 'jobs:\n  a:\n    steps:\n      - run: npm test\n')
    expect(workflowRunningMigrateKit(path.join(repo, '.github', 'workflows'))).toBeUndefined()
    writeFileSync(path.join(repo, '.github', 'workflows', 'db.yaml'), 'jobs:\n  a:\n    steps:\n      - run: npx migrate-kit check\n')
    const plan = planInitFiles(projectAt(path.join(repo, 'apps', 'api')), { urlVariable: 'DATABASE_URL' })
    expect(plan.at(-1)).toMatchObject({ file: path.join(repo, '.github', 'workflows', 'db.yaml'), action: 'keep' })
  })
})
