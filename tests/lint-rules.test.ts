import { existsSync } from 'node:fs'
import path from 'node:path'
import { analyzeMigrations, RULES, type Rule } from '../packages/prisma-migrate-kit/src/lint'
import type { Example } from '../packages/prisma-migrate-kit/src/lint/rule'

/** The rules an example produces: a single migration, or a history whose every migration is linted in order. */
async function rulesFound(rule: Rule, example: Example): Promise<string[]> {
  const migrations = typeof example === 'string' ? [example] : example
  const analyses = await analyzeMigrations(
    migrations.map((sql, index) => ({ name: `2026010100000${index}_example`, file: `example_${index}.sql`, sql })),
    { settings: rule.exampleSettings ?? {} },
  )
  return analyses.flatMap((analysis) => analysis.findings.map((finding) => finding.rule))
}

const show = (example: Example) => (typeof example === 'string' ? example : example.join('\n-- next migration --\n'))

describe.each(RULES.map((rule) => [rule.name, rule] as const))('%s', (name, rule) => {
  test('lives in src/lint/rules/<name>.ts and has failing and passing examples', () => {
    expect(existsSync(path.join(__dirname, '..', 'packages', 'prisma-migrate-kit', 'src', 'lint', 'rules', `${name}.ts`))).toBe(true)
    expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/)
    expect(rule.examples.fail.length).toBeGreaterThan(0)
    expect(rule.examples.pass.length).toBeGreaterThan(0)
  })

  test.each(rule.examples.fail.map((example) => [show(example), example] as const))('fails: %s', async (_, example) => {
    expect(await rulesFound(rule, example)).toContain(name)
  })

  test.each(rule.examples.pass.map((example) => [show(example), example] as const))('passes: %s', async (_, example) => {
    expect(await rulesFound(rule, example)).not.toContain(name)
  })
})

test('rule names are unique', () => {
  const names = RULES.map((rule) => rule.name)
  expect(new Set(names).size).toBe(names.length)
})
