import { analyzeMigration, type MigrationAnalysis } from '../packages/prisma-migrate-kit/src/lint'
import { parseForeignIgnore } from '../packages/prisma-migrate-kit/src/lint/foreign-ignores'

const lint = (sql: string) => analyzeMigration(sql, { migration: '20260102000000_step', file: 'step.sql' })
const rules = (analysis: MigrationAnalysis) => analysis.findings.map((finding) => finding.rule)

const DROP = 'ALTER TABLE "User" DROP COLUMN "bio";'
const INDEX = 'CREATE INDEX "User_bio_idx" ON "User"("bio");'

describe("other linters' acknowledgements are honoured, mapped to our rules", () => {
  test('-- squawk-ignore <rule> acknowledges our rule of the same meaning on the next statement only', async () => {
    const analysis = await lint(`SET lock_timeout = '5s';\n-- squawk-ignore ban-drop-column\n${DROP}\n${DROP.replace('bio', 'age')}`)
    expect(rules(analysis)).toEqual(['ban-drop-column'])
    expect(analysis.findings[0].line).toBe(4)
    expect(analysis.ignored).toEqual([{ rule: 'ban-drop-column', line: 3, reason: 'acknowledged by -- squawk-ignore ban-drop-column' }])
  })

  test('squawk names that differ from ours map to ours; several in one comment; squawk-ignore-file for the whole file', async () => {
    const mapped = await lint(`-- squawk-ignore require-timeout-settings, require-concurrent-index-creation\n${INDEX}`)
    expect(rules(mapped)).toEqual([])
    const file = await lint(`-- squawk-ignore-file ban-drop-column\nSET lock_timeout = '5s';\n${DROP}\n${DROP.replace('bio', 'age')}`)
    expect(rules(file)).toEqual([])
  })

  test('-- pgfence-ignore: <ids> maps pgfence ids; a bare -- pgfence-ignore acknowledges every rule of the statement', async () => {
    const named = await lint(`SET lock_timeout = '5s';\n-- pgfence-ignore: create-index-not-concurrent\n${INDEX}`)
    expect(rules(named)).toEqual([])
    const bare = await lint(`-- pgfence-ignore\n${INDEX}\n${DROP}`)
    expect(rules(bare)).toEqual(['ban-drop-column', 'require-lock-timeout'])
    expect(bare.ignored.map((entry) => entry.rule)).toEqual(['require-concurrent-index-creation'])
  })

  test('a comment that acknowledges nothing is reported: a rule we lack, a typo, or nothing found on its statement', async () => {
    const lacking = await lint(
      `SET lock_timeout = '5s';\n-- squawk-ignore prefer-text-field\nALTER TABLE "User" ADD COLUMN "bio" VARCHAR(20);`,
    )
    expect(lacking.findings).toEqual([
      expect.objectContaining({
        rule: 'invalid-ignore-comment',
        line: 2,
        message: expect.stringContaining('prefer-text-field: no migrate-kit rule checks the same thing'),
      }),
    ])
    const nothing = await lint(`SET lock_timeout = '5s';\n-- pgfence-ignore: drop-column\nALTER TABLE "User" ADD COLUMN "bio" TEXT;`)
    expect(nothing.findings).toEqual([
      expect.objectContaining({ rule: 'invalid-ignore-comment', line: 2, message: expect.stringContaining('acknowledges no finding') }),
    ])
  })

  test('our own comment keeps its reason when both name the same rule', async () => {
    const both = await lint(
      `SET lock_timeout = '5s';\n-- squawk-ignore ban-drop-column\n-- migrate-kit-ignore ban-drop-column: the field left the app in v41\n${DROP}`,
    )
    expect(both.ignored).toEqual([expect.objectContaining({ reason: 'the field left the app in v41' })])
    // The squawk comment acknowledged nothing itself: ours did.
    expect(rules(both)).toEqual(['invalid-ignore-comment'])
  })

  test('the comment forms each tool accepts, and nothing else', () => {
    const parse = (text: string) => parseForeignIgnore({ start: 0, end: text.length, text })
    expect(parse('-- squawk-ignore ban-drop-table')).toMatchObject({ linter: 'squawk', scope: 'statement', rules: ['ban-drop-table'] })
    expect(parse('/* squawk-ignore-file renaming-column */')).toMatchObject({ scope: 'file', rules: ['renaming-column'] })
    expect(parse('-- pgfence-ignore: drop-table, rename-table')).toMatchObject({
      linter: 'pgfence',
      rules: ['ban-drop-table', 'renaming-table'],
    })
    expect(parse('-- pgfence-ignore')).toMatchObject({ rules: ['*'] })
    expect(parse('-- squawk-ignored ban-drop-table')).toBeUndefined()
    expect(parse('-- see squawk-ignore docs')).toBeUndefined()
  })
})
