import { readFileSync, writeFileSync } from 'node:fs'
import { InputError } from '../packages/prisma-migrate-kit/src/errors'
import type { Finding, MigrationAnalysis } from '../packages/prisma-migrate-kit/src/lint'
import { applyBaseline, baselineEntries, readLintBaseline, type LintBaseline } from '../packages/prisma-migrate-kit/src/lint/baseline'
import { projectAt } from '../packages/prisma-migrate-kit/src/project'
import { runCli } from './helpers/cli'
import { createTempProject, type TempProject } from './helpers/project'

function finding(migration: string, rule: string, line: number): Finding {
  return { level: 'error', rule, file: `prisma/migrations/${migration}/migration.sql`, line, message: `${rule} at ${line}`, help: '' }
}

function analysis(migration: string, findings: Finding[]): MigrationAnalysis {
  return { migration, file: `prisma/migrations/${migration}/migration.sql`, findings } as unknown as MigrationAnalysis
}

describe('applyBaseline (no files)', () => {
  const baseline: LintBaseline = {
    file: 'migrate-kit.lint-baseline.json',
    entries: [
      { migration: '1_init', rule: 'ban-drop-column', count: 2 },
      { migration: '2_index', rule: 'require-concurrent-index-creation', count: 1 },
      { migration: '0_gone', rule: 'ban-drop-column', count: 1 },
    ],
  }
  const history = ['1_init', '2_index', '3_new']

  test('skips up to count findings of the rule in that migration, in line order; the rest and other rules stay', () => {
    const analyses = [
      analysis('1_init', [
        finding('1_init', 'ban-drop-column', 30),
        finding('1_init', 'ban-drop-column', 10),
        finding('1_init', 'ban-drop-column', 20),
        finding('1_init', 'adding-required-field', 5),
      ]),
      analysis('2_index', [finding('2_index', 'require-concurrent-index-creation', 3)]),
      analysis('3_new', [finding('3_new', 'require-concurrent-index-creation', 1)]),
    ]
    const outcome = applyBaseline(baseline, analyses, history)
    expect(outcome.skipped).toBe(3)
    expect(outcome.findings.map((f) => `${f.file.split('/')[2] ?? f.file}:${f.line} ${f.rule}`)).toEqual([
      '1_init:5 adding-required-field',
      '1_init:30 ban-drop-column',
      '3_new:1 require-concurrent-index-creation',
      'migrate-kit.lint-baseline.json:1 outdated-baseline',
    ])
    expect(outcome.findings.at(-1)!.message).toBe(
      'accepts ban-drop-column findings in 0_gone, which is not a migration of this project (a renamed or deleted folder?)',
    )
    expect(outcome.findings.at(-1)!.level).toBe('warning')
  })

  test('an entry accepting more than its migration has now is reported; one for a migration not linted is not judged', () => {
    const onlyInit = applyBaseline(baseline, [analysis('1_init', [finding('1_init', 'ban-drop-column', 10)])], history)
    expect(onlyInit.skipped).toBe(1)
    expect(onlyInit.findings.map((f) => f.message)).toEqual([
      'accepts 2 ban-drop-column findings in 1_init, which has 1 now',
      'accepts ban-drop-column findings in 0_gone, which is not a migration of this project (a renamed or deleted folder?)',
    ])
    expect(onlyInit.findings[0].help).toBe(
      "Write it again from today's findings and review its diff before committing: npx migrate-kit lint --baseline",
    )
  })

  test('baselineEntries counts findings per migration and rule, in history order', () => {
    const analyses = [
      analysis('1_init', [
        finding('1_init', 'ban-drop-column', 3),
        finding('1_init', 'adding-required-field', 1),
        finding('1_init', 'ban-drop-column', 9),
      ]),
      analysis('2_index', []),
    ]
    expect(baselineEntries(analyses)).toEqual([
      { migration: '1_init', rule: 'adding-required-field', count: 1 },
      { migration: '1_init', rule: 'ban-drop-column', count: 2 },
    ])
  })
})

describe('migrate-kit lint --baseline (a history the test builds)', () => {
  let project: TempProject
  const lint = (...args: string[]) => runCli(['lint', ...args], { cwd: project.root })
  const OLD = '20200101000000_old'

  beforeAll(() => {
    project = createTempProject({ exampleApp: false })
    project.write('prisma/migrations/migration_lock.toml', 'provider = "postgresql"\n')
    project.write(
      'prisma/migrations/20191201000000_init/migration.sql',
      'CREATE TABLE "Customer" ("id" SERIAL PRIMARY KEY, "email" TEXT, "name" TEXT);\n',
    )
    project.write(
      `prisma/migrations/${OLD}/migration.sql`,
      "SET lock_timeout = '5s';\n" +
        'CREATE INDEX "Customer_email_idx" ON "Customer"("email");\n' +
        'ALTER TABLE "Customer" DROP COLUMN "name";\n',
    )
  })

  afterAll(() => project?.remove())

  test('the history fails; --baseline accepts it; then only a new finding fails; the file stays true', async () => {
    const before = await lint('--json')
    expect(before.code).toBe(1)
    const found = (JSON.parse(before.stdout) as { findings: Finding[] }).findings
    expect(found.length).toBeGreaterThan(0)

    const written = await lint('--baseline')
    expect({ code: written.code, stderr: written.stderr }).toEqual({ code: 0, stderr: '' })
    expect(written.stdout).toMatch(
      new RegExp(`^Wrote migrate-kit\\.lint-baseline\\.json: ${found.length} findings? accepted in 1 migration\\. .*Commit it\\.$`, 'm'),
    )
    const file = JSON.parse(readFileSync(project.path('migrate-kit.lint-baseline.json'), 'utf8')) as {
      accepted: Array<{ migration: string; count: number }>
    }
    expect(file.accepted.every((entry) => entry.migration === OLD)).toBe(true)
    expect(file.accepted.reduce((sum, entry) => sum + entry.count, 0)).toBe(found.length)

    const clean = await lint()
    expect(clean.code).toBe(0)
    expect(clean.stdout).toContain(
      `2 migrations linted: 0 errors, 0 warnings, ${found.length} known finding${found.length === 1 ? '' : 's'} skipped (accepted in migrate-kit.lint-baseline.json).`,
    )
    const json = JSON.parse((await lint('--json')).stdout) as { ok: boolean; summary: Record<string, unknown> }
    expect(json).toMatchObject({
      ok: true,
      summary: { errors: 0, baselined: found.length, baselineFile: 'migrate-kit.lint-baseline.json' },
    })

    // A new migration with the same kind of statement is not covered: its finding fails, alone.
    project.write(
      'prisma/migrations/20200201000000_new/migration.sql',
      'CREATE INDEX "Customer_id_email_idx" ON "Customer"("id", "email");\n',
    )
    const fresh = await lint('--json')
    expect(fresh.code).toBe(1)
    expect((JSON.parse(fresh.stdout) as { findings: Finding[] }).findings.map((f) => `${f.file}:${f.line} ${f.rule}`)).toEqual([
      'prisma/migrations/20200201000000_new/migration.sql:1 require-concurrent-index-creation',
    ])
    // Acknowledged inline in the migration not yet applied: as before the baseline.
    project.write(
      'prisma/migrations/20200201000000_new/migration.sql',
      '-- migrate-kit-ignore require-concurrent-index-creation: the table is empty in every environment\nCREATE INDEX "Customer_id_email_idx" ON "Customer"("id", "email");\n',
    )
    expect((await lint()).code).toBe(0)

    // Everything, when asked.
    const all = await lint('--ignore-baseline', '--json')
    expect({ code: all.code, count: (JSON.parse(all.stdout) as { findings: unknown[] }).findings.length }).toEqual({
      code: 1,
      count: found.length,
    })

    // One more statement of an accepted rule in the old migration (an edit) is one more than the count: it fails.
    const oldFile = project.path('prisma', 'migrations', OLD, 'migration.sql')
    const original = readFileSync(oldFile, 'utf8')
    writeFileSync(oldFile, `${original}CREATE INDEX "Customer_email_name_idx" ON "Customer"("email", "id");\n`)
    const edited = await lint('--json')
    expect(edited.code).toBe(1)
    expect((JSON.parse(edited.stdout) as { findings: Finding[] }).findings.map((f) => `${f.line} ${f.rule}`)).toEqual([
      '4 require-concurrent-index-creation',
    ])

    // The old migration made clean of one rule: the entry accepting it is reported until the file is written again.
    writeFileSync(oldFile, original.replace(/ALTER TABLE "Customer" DROP COLUMN "name";\n/, ''))
    const outdated = await lint()
    expect(outdated.code).toBe(0)
    expect(outdated.stdout).toMatch(
      /^migrate-kit\.lint-baseline\.json:1 outdated-baseline warning\n {2}accepts 1 ban-drop-column finding in 20200101000000_old, which has none now$/m,
    )
    expect((await lint('--baseline')).stdout).toMatch(/^Rewrote migrate-kit\.lint-baseline\.json/)
    expect((await lint()).stdout).not.toContain('outdated-baseline')
    writeFileSync(oldFile, original)
  }, 120_000)

  test('a malformed baseline is refused (exit 2) by lint and by the library, naming what is wrong', async () => {
    const file = project.path('migrate-kit.lint-baseline.json')
    const saved = readFileSync(file, 'utf8')
    try {
      writeFileSync(file, '{ "accepted": [{ "migration": "20200101000000_old", "rule": "ban-drop-column" }] }')
      const result = await lint()
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' })
      expect(result.stderr).toContain(
        'migrate-kit.lint-baseline.json: entry 1 (20200101000000_old, ban-drop-column) needs "count": the number of findings it accepts, 1 or more',
      )
      writeFileSync(file, '{ "accepted": [')
      expect(() => readLintBaseline(projectAt(project.root))).toThrow(InputError)
      expect((await lint('--baseline', '20200101000000_old')).code).toBe(2)
    } finally {
      writeFileSync(file, saved)
    }
  }, 60_000)
})
