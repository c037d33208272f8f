import Ajv from 'ajv'
import AjvDraft04 from 'ajv-draft-04'
import addFormats from 'ajv-formats'
import { copyFileSync, existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Finding } from '../packages/prisma-migrate-kit/src/lint'
import { githubAnnotations, gitlabCodeQuality, sarifLog } from '../packages/prisma-migrate-kit/src/lint/report-formats'
import { runCli } from './helpers/cli'
import { PACKAGE_ROOT, createTempProject, type TempProject } from './helpers/project'

/**
 * The OASIS SARIF 2.1.0 schema (rtm.5, the one GitHub code scanning validates uploads against), as Microsoft's
 * sarif-js-sdk ships it on npm. It is a draft-04 schema; one of its patterns is only valid outside unicode mode.
 */
function sarifErrors(log: unknown): string[] {
  const schemaFile = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json')
  const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false })
  addFormats(ajv)
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object)
  return validate(log) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`)
}

/**
 * GitLab's Code Quality report as its documentation defines it (docs/ci/testing/code_quality.md, "Code Quality report
 * format"): the fields GitLab reads, each required, severity one of five words.
 */
const GITLAB_CODE_QUALITY_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    required: ['description', 'check_name', 'fingerprint', 'severity', 'location'],
    properties: {
      description: { type: 'string', minLength: 1 },
      check_name: { type: 'string', minLength: 1 },
      fingerprint: { type: 'string', minLength: 1 },
      severity: { enum: ['info', 'minor', 'major', 'critical', 'blocker'] },
      location: {
        type: 'object',
        required: ['path', 'lines'],
        properties: {
          path: { type: 'string', minLength: 1, not: { pattern: '^(/|\\./)' } },
          lines: { type: 'object', required: ['begin'], properties: { begin: { type: 'integer', minimum: 1 } } },
        },
      },
    },
  },
}

const finding = (overrides: Partial<Finding> = {}): Finding => ({
  level: 'error',
  rule: 'ban-drop-column',
  file: 'prisma/migrations/20260102000000_drop/migration.sql',
  line: 3,
  message: 'Dropping "User"."bio" breaks, every, running: release',
  help: '1. Release code first.\n2. Then drop it: 100% sure',
  ...overrides,
})

describe('the formats, from findings', () => {
  const options = {
    pathPrefix: 'apps/api/',
    catalogue: [{ name: 'ban-drop-column', level: 'error' as const, summary: 'drops' }],
    toolVersion: '0.1.0',
  }

  test('SARIF is a valid SARIF 2.1.0 log (the OASIS schema), with the rules and repository-relative paths', () => {
    const log = sarifLog([finding(), finding({ rule: 'syntax-error', line: 7, column: 12, level: 'warning' })], options)
    expect(sarifErrors(log)).toEqual([])
    const run = (log as { runs: Array<{ results: Array<Record<string, unknown>>; tool: { driver: { rules: Array<{ id: string }> } } }> })
      .runs[0]
    expect(run.tool.driver.rules.map((rule) => rule.id)).toEqual(['ban-drop-column', 'syntax-error'])
    expect(run.results[1]).toMatchObject({
      ruleId: 'syntax-error',
      ruleIndex: 1,
      level: 'warning',
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: 'apps/api/prisma/migrations/20260102000000_drop/migration.sql' },
            region: { startLine: 7, startColumn: 12 },
          },
        },
      ],
    })
    expect(sarifErrors(sarifLog([], options))).toEqual([])
  })

  test('GitHub annotations escape what would cut the message or a property', () => {
    const [line] = githubAnnotations([finding()], options)
    expect(line).toBe(
      '::error file=apps/api/prisma/migrations/20260102000000_drop/migration.sql,line=3,title=migrate-kit ban-drop-column::' +
        'Dropping "User"."bio" breaks, every, running: release%0A%0AHow to fix it:%0A1. Release code first.%0A2. Then drop it: 100%25 sure',
    )
    expect(githubAnnotations([finding({ file: 'a,b:c.sql', level: 'warning' })], { pathPrefix: '' })[0]).toMatch(
      /^::warning file=a%2Cb%3Ac\.sql,line=3,/,
    )
  })

  test('GitLab Code Quality fits the documented format; identical findings get distinct, stable fingerprints', () => {
    const report = gitlabCodeQuality([finding(), finding(), finding({ level: 'warning', rule: 'changing-trigger' })], options)
    const validate = new Ajv({ allErrors: true }).compile(GITLAB_CODE_QUALITY_SCHEMA)
    expect(validate(report)).toBe(true)
    const prints = report.map((entry) => (entry as { fingerprint: string }).fingerprint)
    expect(new Set(prints).size).toBe(3)
    expect(gitlabCodeQuality([finding({ line: 40 })], options)).toEqual([expect.objectContaining({ fingerprint: prints[0] })])
    expect(report[2]).toMatchObject({
      severity: 'minor',
      location: { path: 'apps/api/prisma/migrations/20260102000000_drop/migration.sql', lines: { begin: 3 } },
    })
  })
})

describe('lint --format and check --format, through the binary', () => {
  let project: TempProject
  beforeAll(() => {
    if (!existsSync(path.join(PACKAGE_ROOT, 'dist', 'lint', 'report-formats.js'))) throw new Error('run `npm run build` first')
  })
  beforeEach(() => {
    project = createTempProject({ exampleApp: false })
    project.write('prisma/migrations/20260101000000_init/migration.sql', 'CREATE TABLE "User" ("id" INTEGER, "bio" TEXT);\n')
    project.write('prisma/migrations/20260102000000_drop_bio/migration.sql', '-- DropColumn\nALTER TABLE "User" DROP COLUMN "bio";\n')
  })
  afterEach(() => project.remove())

  test('sarif, github and gitlab print the findings for their tool, with the exit code of text', async () => {
    const sarif = await runCli(['lint', '--format', 'sarif'], { cwd: project.root })
    expect(sarif.code).toBe(1)
    expect(sarifErrors(JSON.parse(sarif.stdout))).toEqual([])
    const github = await runCli(['lint', '--format', 'github'], { cwd: project.root })
    expect(github.code).toBe(1)
    expect(github.stdout).toMatch(
      /^::error file=prisma\/migrations\/20260102000000_drop_bio\/migration\.sql,line=2,title=migrate-kit ban-drop-column::/m,
    )
    const gitlab = await runCli(['lint', '--format', 'gitlab'], { cwd: project.root })
    expect(gitlab.code).toBe(1)
    expect(new Ajv().compile(GITLAB_CODE_QUALITY_SCHEMA)(JSON.parse(gitlab.stdout))).toBe(true)
  })

  test('paths are relative to the repository root when the project lives in a subfolder of it', async () => {
    project.write('.git/HEAD', 'ref: refs/heads/main\n')
    project.write('apps/api/prisma/migrations/20260102000000_drop_bio/migration.sql', 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    // The Prisma config file marks a project's root: the API's own, in the subfolder.
    copyFileSync(project.path('prisma.config.ts'), project.path('apps', 'api', 'prisma.config.ts'))
    project.write('apps/api/prisma/schema.prisma', 'datasource db {\n  provider = "postgresql"\n}\n')
    const github = await runCli(['lint', '--format', 'github'], { cwd: path.join(project.root, 'apps', 'api') })
    expect(github.stdout).toContain('::error file=apps/api/prisma/migrations/20260102000000_drop_bio/migration.sql,line=1,')
  })

  test('an unknown format is refused (exit 2); --json stays the same as --format json', async () => {
    const bad = await runCli(['lint', '--format', 'xml'], { cwd: project.root })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('text, json, sarif, github, gitlab')
    const json = await runCli(['lint', '--format', 'json'], { cwd: project.root })
    const alias = await runCli(['lint', '--json'], { cwd: project.root })
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(alias.stdout))
  })
})
