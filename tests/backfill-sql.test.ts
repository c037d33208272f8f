import { BackfillShapeError, defineBackfill, sql, type BackfillDefinition } from 'prisma-migrate-kit'
import { invalidationFor, parsePattern } from '../packages/prisma-migrate-kit/src/backfill/patterns'
import { compareValue } from '../packages/prisma-migrate-kit/src/backfill/report'
import { classifyFailure, describeFailure } from '../packages/prisma-migrate-kit/src/backfill/retry'
import { isStalledConnection, stallLimitMs } from '../packages/prisma-migrate-kit/src/db/connect'
import { StatementBuilder, renderStatement } from '../packages/prisma-migrate-kit/src/backfill/sql'
import { caretExcerpt } from '../packages/prisma-migrate-kit/src/backfill/validate'

describe('the sql tag', () => {
  test('binds every interpolation as a parameter, never as text', () => {
    const name = "Robert'); DROP TABLE users;--"
    const statement = renderStatement(sql`UPDATE users SET name = ${name} WHERE id = ${42}`)
    expect(statement).toEqual({ text: 'UPDATE users SET name = $1 WHERE id = $2', values: [name, 42] })
  })

  test('numbers parameters after those of the statement it is put into, and inlines nested fragments', () => {
    const builder = new StatementBuilder().text('UPDATE t SET ').param('first')
    builder.text(', ').fragment(sql`a = ${1}, b = ${sql`coalesce(b, ${2})`}`, 'update')
    expect(builder.build()).toEqual({ text: 'UPDATE t SET $1, a = $2, b = coalesce(b, $3)', values: ['first', 1, 2] })
    expect(builder.spans).toEqual([{ label: 'update', start: 17, end: 44 }])
  })

  test('points a PostgreSQL error position back into the fragment with a caret', () => {
    const builder = new StatementBuilder().text('EXPLAIN UPDATE t SET ').fragment(sql`n = nn + 1`, 'update')
    const { text } = builder.build()
    const position = text.indexOf('nn') + 1
    expect(builder.spanAt(position)?.label).toBe('update')
    expect(caretExcerpt(text, builder.spans[0], position)).toEqual(['n = nn + 1', '    ^'])
  })
})

describe('defineBackfill', () => {
  test('gives exactly one of update and process, as a type and at run time', () => {
    // @ts-expect-error both update and process: a type error
    const both: BackfillDefinition = { name: 'x', table: 't', update: sql`a = 1`, process: () => undefined }
    // @ts-expect-error neither: a type error
    const neither: BackfillDefinition = { name: 'x', table: 't' }
    expect(() => defineBackfill(both)).toThrow(BackfillShapeError)
    expect(() => defineBackfill(neither)).toThrow(/exactly one of update/)
    expect(defineBackfill({ name: 'ok', table: 't', update: sql`a = 1` }).name).toBe('ok')
  })

  test('refuses SQL written as a plain string and names a name that cannot be a command argument', () => {
    const plainString = { name: 'has space', table: 't', update: 'a = 1' } as unknown as BackfillDefinition
    expect(() => defineBackfill(plainString)).toThrow(/name must be .*update must be written with the sql`…` tag/)
  })
})

describe('invalidate patterns', () => {
  test('{column} takes each changed row’s value; a key without glob characters is deleted by name', () => {
    const rows = [
      { id: 1, slug: 'a*b' },
      { id: 2, slug: 'c' },
    ]
    expect(invalidationFor([parsePattern('user:{id}'), parsePattern('list:*')], rows)).toEqual({
      keys: ['user:1', 'user:2'],
      patterns: ['list:*'],
    })
  })

  test('values put into a glob are escaped so they only match themselves; {{ }} are literal braces', () => {
    const pattern = parsePattern('{{tag}}:slug:{slug}:*')
    expect(pattern.columns).toEqual(['slug'])
    expect(invalidationFor([pattern], [{ slug: 'a*b' }]).patterns).toEqual(['{tag}:slug:a\\*b:*'])
    expect(() => parsePattern('user:{id')).toThrow(/unclosed/)
  })
})

describe('report rules', () => {
  test('flags a numeric change above the relative threshold, and any text change', () => {
    expect(compareValue('numeric', 100, 105, 0.1)).toEqual({ before: 100, after: 105, delta: 5, relative: 0.05, flagged: false })
    expect(compareValue('numeric', 100, 150, 0.1)?.flagged).toBe(true)
    expect(compareValue('numeric', 0, 3, 0.1)).toMatchObject({ relative: null, flagged: true })
    expect(compareValue('text', 'a', 'b', 0.1)).toEqual({ before: 'a', after: 'b', flagged: true })
    expect(compareValue('numeric', 7, 7, 0.1)).toBeUndefined()
  })
})

describe('failure classification', () => {
  test('a lost session is retried, a lock conflict retried then split, a data error split at once, a code error stops', () => {
    expect(classifyFailure({ code: '57P01', message: 'terminating connection due to administrator command' })).toBe('connection')
    expect(classifyFailure(new Error('Connection terminated unexpectedly'))).toBe('connection')
    expect(classifyFailure({ code: 'ECONNREFUSED' })).toBe('connection')
    // pg's client-side bound (queryTimeoutMs): a stalled session, replaced like a lost one.
    expect(classifyFailure(new Error('Query read timeout'))).toBe('connection')
    expect(isStalledConnection(new Error('Query read timeout'))).toBe(true)
    expect(isStalledConnection(new Error('Connection terminated unexpectedly'))).toBe(false)
    expect(stallLimitMs(30_000)).toBe(35_000)
    expect(classifyFailure({ code: '55P03', message: 'canceling statement due to lock timeout' })).toBe('conflict')
    expect(classifyFailure({ code: '23514', message: 'violates check constraint' })).toBe('data')
    expect(classifyFailure({ code: 'P0001', message: 'raised by a trigger' })).toBe('data')
    expect(classifyFailure({ code: '22P02', message: 'invalid input syntax for type integer' })).toBe('data')
    expect(classifyFailure(new TypeError('boom in process()'))).toBe('code')
    expect(classifyFailure({ code: '42703', message: 'column "nope" does not exist' })).toBe('code')
    expect(classifyFailure({ code: '42501', message: 'permission denied for table users' })).toBe('code')
  })

  test("Prisma Client's errors are classified by the SQLSTATE its driver adapter kept, else by Prisma's code", () => {
    const prisma = (code: string, originalCode?: string) => ({
      code,
      clientVersion: '7.10.0',
      message: '\nInvalid `prisma.user.update()` invocation in\n/app/backfills/x.ts:9:50\n\nDatabase error. Code: `23514`.',
      meta: originalCode ? { driverAdapterError: { cause: { originalCode } } } : {},
    })
    expect(classifyFailure(prisma('P2039', '23514'))).toBe('data')
    expect(classifyFailure(prisma('P2002', '23505'))).toBe('data')
    expect(classifyFailure(prisma('P2039', '40P01'))).toBe('conflict')
    expect(classifyFailure(prisma('P2034'))).toBe('conflict')
    expect(classifyFailure(prisma('P1017'))).toBe('connection')
    expect(classifyFailure(prisma('P2025'))).toBe('code') // record not found: the code asked for a row that is not there
    // Prisma's own code is not an SQLSTATE; the message keeps only its last line when asked to be short.
    expect(describeFailure(prisma('P2039', '23514'))).toBe(
      'Invalid `prisma.user.update()` invocation in\n/app/backfills/x.ts:9:50\n\nDatabase error. Code: `23514`.',
    )
    expect(describeFailure(prisma('P2039', '23514'), { short: true })).toBe('Database error. Code: `23514`.')
    expect(describeFailure({ code: '23514', message: 'violates check', detail: 'Failing row contains (1).' })).toBe(
      'violates check (SQLSTATE 23514); Failing row contains (1).',
    )
    expect(describeFailure(new TypeError('x is not a function'))).toBe('TypeError: x is not a function')
    expect(describeFailure(new Error('plain'))).toBe('plain')
  })
})
