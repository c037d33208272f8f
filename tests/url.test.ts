import { parseDatabaseUrl, redactUrl, scrubSecrets, withDatabase } from '../packages/prisma-migrate-kit/src/db/url'
import { quoteIdent, quoteLiteral } from '../packages/prisma-migrate-kit/src/db/quote'
import {
  migrationState,
  scriptMatchesChecksum,
  migrationChecksum,
  type MigrationRecord,
} from '../packages/prisma-migrate-kit/src/prisma/migrations'

describe('database URLs', () => {
  test('names host, port, database and user', () => {
    expect(parseDatabaseUrl('postgresql://app:pw@db.internal:6432/shop?schema=public')).toEqual({
      host: 'db.internal',
      port: 6432,
      database: 'shop',
      user: 'app',
    })
    expect(parseDatabaseUrl('postgres://localhost/x')).toMatchObject({ port: 5432, user: 'postgres' })
  })

  test('refuses what is not a PostgreSQL URL, with a message that does not echo it', () => {
    expect(() => parseDatabaseUrl('mysql://root:Sup3rS3cret@h/db')).toThrow(/PostgreSQL URL/)
    expect(() => parseDatabaseUrl('not a url Sup3rS3cret')).toThrow(/not a valid URL/)
    try {
      parseDatabaseUrl('mysql://root:Sup3rS3cret@h/db')
    } catch (error) {
      expect((error as Error).message).not.toContain('Sup3rS3cret')
    }
  })

  test('never lets a password through', () => {
    const url = 'postgresql://app:Sup3r%2FS3cret@db:5432/shop'
    expect(redactUrl(url)).toBe('postgresql://app:***@db:5432/shop')
    expect(scrubSecrets(`failed: ${url} (password Sup3r/S3cret)`, url)).not.toMatch(/Sup3r/)
    expect(withDatabase(url, 'scratch_1')).toBe('postgresql://app:Sup3r%2FS3cret@db:5432/scratch_1')
  })
})

test('quotes identifiers and literals', () => {
  expect(quoteIdent('weird"name')).toBe('"weird""name"')
  expect(quoteLiteral("it's")).toBe("'it''s'")
})

describe('Prisma migration records', () => {
  const row = (overrides: Partial<MigrationRecord>): MigrationRecord => ({
    id: 'x',
    name: '1_init',
    checksum: '',
    startedAt: new Date(),
    finishedAt: new Date(),
    rolledBackAt: null,
    logs: null,
    appliedStepsCount: 1,
    ...overrides,
  })

  test('state follows the newest row that is not rolled back, as Prisma reads it', () => {
    expect(migrationState([])).toBe('pending')
    expect(migrationState([row({})])).toBe('applied')
    expect(migrationState([row({ finishedAt: null })])).toBe('failed')
    expect(migrationState([row({ finishedAt: null, rolledBackAt: new Date() })])).toBe('rolled_back')
    expect(migrationState([row({ finishedAt: null, rolledBackAt: new Date() }), row({})])).toBe('applied')
  })

  test('checksums match across line-ending conventions, and not after an edit', () => {
    const script = 'CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n'
    const recorded = migrationChecksum(script)
    expect(scriptMatchesChecksum(script.replace(/\n/g, '\r\n'), recorded)).toBe(true)
    expect(scriptMatchesChecksum(script.replace('b', 'c'), recorded)).toBe(false)
  })
})
