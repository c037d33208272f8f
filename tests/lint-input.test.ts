import { writeFileSync } from 'node:fs'
import { analyzeMigration, type MigrationAnalysis } from '../packages/prisma-migrate-kit/src/lint'
import { InputError } from '../packages/prisma-migrate-kit/src/errors'
import { firstInvalidUtf8 } from '../packages/prisma-migrate-kit/src/sql/read-sql-file'
import { runCli } from './helpers/cli'
import { createTempProject, type TempProject } from './helpers/project'

const rules = (analysis: MigrationAnalysis) => analysis.findings.map((finding) => finding.rule)
const at = (analysis: MigrationAnalysis, rule: string) => analysis.findings.filter((finding) => finding.rule === rule)
const lint = (sql: string) => analyzeMigration(sql, { migration: '20260102000000_step', file: 'step.sql' })

describe('a file that cannot be read as SQL is refused, never half-linted', () => {
  let project: TempProject
  beforeEach(() => {
    project = createTempProject({ exampleApp: false })
    project.write('prisma/migrations/20260101000000_init/migration.sql', 'CREATE TABLE "User" ("id" INTEGER, "bio" TEXT);\n')
  })
  afterEach(() => project.remove())

  const writeBytes = (bytes: Buffer) => writeFileSync(project.write('prisma/migrations/20260102000000_drop_bio/migration.sql', ''), bytes)

  test('a NUL byte: exit 2 naming the file and byte offset (the DROP COLUMN after it would otherwise go unseen)', async () => {
    writeBytes(Buffer.concat([Buffer.from('SELECT 1;\n'), Buffer.from([0]), Buffer.from('\nALTER TABLE "User" DROP COLUMN "bio";\n')]))
    const result = await runCli(['lint'], { cwd: project.root })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('prisma/migrations/20260102000000_drop_bio/migration.sql')
    expect(result.stderr).toContain('NUL byte (0x00) at byte offset 10 (line 2, column 1)')
    const json = await runCli(['lint', '--json'], { cwd: project.root })
    expect(json.code).toBe(2)
  })

  test('bytes that are not UTF-8 (a Latin-1 é): exit 2 with the offset, not a silent U+FFFD', async () => {
    writeBytes(Buffer.concat([Buffer.from('-- caf'), Buffer.from([0xe9]), Buffer.from('\nALTER TABLE "User" DROP COLUMN "bio";\n')]))
    const result = await runCli(['lint'], { cwd: project.root })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('byte 0xe9 is not valid UTF-8 at byte offset 6 (line 1, column 7)')
  })

  test('the library refuses a string holding NUL too', async () => {
    await expect(lint('SELECT 1;\0DROP TABLE "User";')).rejects.toThrow(InputError)
  })
})

test('firstInvalidUtf8 follows RFC 3629', () => {
  const valid = Buffer.from('aé€😀')
  expect(firstInvalidUtf8(valid)).toBeUndefined()
  expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80]))).toBe(1) // overlong NUL
  expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0) // a surrogate
  expect(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe(0) // past U+10FFFF
  expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xe2, 0x82]))).toBe(2) // cut short
  expect(firstInvalidUtf8(Buffer.from([0x80]))).toBe(0)
})

describe('DO blocks: what they run is linted, what cannot be seen is said', () => {
  test('plain statements in the body are linted on their own lines, and set the phase', async () => {
    const analysis = await lint(`SET lock_timeout = '5s';
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'User') THEN
    ALTER TABLE "User" DROP COLUMN "bio";
  END IF;
END $$;`)
    expect(at(analysis, 'ban-drop-column')).toEqual([expect.objectContaining({ line: 5, level: 'error' })])
    expect(analysis.phase).toBe('contract')
  })

  test('EXECUTE of a constant string is linted; EXECUTE of a computed string is said to be unlinted', async () => {
    const analysis = await lint(`DO $body$
DECLARE name text := 'Session';
BEGIN
  EXECUTE 'DROP TABLE "Legacy"';
  EXECUTE format('DROP TABLE %I', name);
END
$body$;`)
    expect(at(analysis, 'ban-drop-table')).toEqual([expect.objectContaining({ line: 4 })])
    expect(at(analysis, 'unlinted-code')).toEqual([
      expect.objectContaining({ line: 5, level: 'warning', message: expect.stringContaining("format('DROP TABLE %I', name)") }),
    ])
  })

  test('CREATE INDEX CONCURRENTLY inside a DO block runs in a transaction there, even alone in the file', async () => {
    const analysis = await lint(`DO $$ BEGIN CREATE INDEX CONCURRENTLY "User_bio_idx" ON "User"("bio"); END $$;`)
    expect(at(analysis, 'ban-concurrently-in-transaction')).toEqual([
      expect.objectContaining({ message: expect.stringContaining('inside a DO block') }),
    ])
  })

  test('another language, or a body PL/pgSQL rejects, is said to be unlinted; an ignore comment acknowledges it', async () => {
    const other = await lint(`DO LANGUAGE plperl $$ spi_exec_query('DROP TABLE users') $$;`)
    expect(at(other, 'unlinted-code')).toEqual([expect.objectContaining({ message: expect.stringContaining('LANGUAGE plperl') })])
    const broken = await lint(`DO $$ BEGIN ALTER TABLE; END $$;`)
    expect(rules(broken)).toContain('unlinted-code')
    const acknowledged = await lint(
      `-- migrate-kit-ignore unlinted-code: renames audit partitions only\nDO $$ BEGIN EXECUTE 'ALTER TABLE ' || tbl; END $$;`,
    )
    expect(rules(acknowledged)).toEqual([])
    expect(acknowledged.ignored).toEqual([expect.objectContaining({ rule: 'unlinted-code' })])
  })

  test('a DO block that only reads or writes new rows raises nothing', async () => {
    const analysis = await lint(`CREATE TABLE "Audit" ("id" INTEGER);
DO $$ BEGIN INSERT INTO "Audit" VALUES (1); END $$;`)
    expect(rules(analysis)).toEqual([])
  })
})
