import { ensureBackfillState, readBackfillRecord } from '../packages/prisma-migrate-kit/src/backfill/state'
import {
  ALLOWED_FROM,
  BackfillStateError,
  recordConclusion,
  recordFailure,
  recordInterrupted,
  recordRequest,
  recordReset,
  startRun,
  transitionAllowed,
  type RunStart,
} from '../packages/prisma-migrate-kit/src/backfill/store'
import { connect } from '../packages/prisma-migrate-kit/src/db/connect'
import { createTestDatabase, type TestDatabase } from './helpers/database'
import type { Client } from 'pg'

describe('backfill store: the allowed-from table', () => {
  test('a done backfill only starts again or is reset', () => {
    const fromDone = Object.keys(ALLOWED_FROM).filter((change) => transitionAllowed(change as keyof typeof ALLOWED_FROM, 'done'))
    expect(fromDone.sort()).toEqual(['reset', 'start'])
  })

  test('only a running backfill is interrupted; finish never starts from failed or cancelled', () => {
    expect(ALLOWED_FROM.interrupt).toEqual(['running'])
    expect(transitionAllowed('finish', 'failed')).toBe(false)
    expect(transitionAllowed('finish', 'cancelled')).toBe(false)
    expect(transitionAllowed('finish', 'paused')).toBe(true)
    expect(transitionAllowed('pause', 'failed')).toBe(false)
  })
})

describe('backfill store on PostgreSQL', () => {
  let db: TestDatabase
  let client: Client
  const start: RunStart = {
    file: 'backfills/b.ts',
    checksum: 'abc',
    tableName: 'public.t',
    tableOid: 1,
    key: { columns: [{ name: 'id', type: 'integer' }] },
    batchSize: 100,
    snapshotColumns: [],
    owner: { host: 'h', pid: 1 },
    afterMigrationId: null,
  }
  const progress = { rowsDone: 10, rowsChanged: 10, cursor: '10', batchSize: 100, runMsSinceSave: 5 }

  beforeAll(async () => {
    db = await createTestDatabase('backfill_store')
    client = await connect(db.url)
    await ensureBackfillState(client)
  })
  afterAll(async () => {
    await client?.end()
    await db?.drop()
  })

  test('a run that finishes records done; a later failure report is refused and changes nothing', async () => {
    await startRun(client, 'b1', start)
    await recordConclusion(client, 'b1', { failure: null, verified: true, verifyFailures: 0, progress })
    const error = await recordFailure(client, 'b1', 'late', null).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BackfillStateError)
    expect((error as BackfillStateError).message).toBe(
      'backfill "b1" is done, which cannot fail (only from running, paused, failed); another session changed it meanwhile',
    )
    expect((error as BackfillStateError).exitCode).toBe(1)
    const record = await readBackfillRecord(client, 'b1')
    expect(record).toMatchObject({ status: 'done', lastError: null, rowsDone: 10 })
  })

  test('an interrupt finds a failed backfill and leaves it failed', async () => {
    await startRun(client, 'b2', start)
    await recordFailure(client, 'b2', 'bad row', { after: '1', upTo: '2' })
    expect(await recordInterrupted(client, 'b2')).toBe(false)
    expect(await readBackfillRecord(client, 'b2')).toMatchObject({
      status: 'failed',
      lastError: 'bad row',
      failedAfter: '1',
      failedUpTo: '2',
    })
    await expect(recordRequest(client, 'b2', 'pause', { status: 'paused', requested: null, by: 'me' })).rejects.toThrow(
      'is failed, which cannot pause',
    )
    await recordReset(client, 'b2')
    expect(await readBackfillRecord(client, 'b2')).toMatchObject({ status: 'pending', lastError: null, failedUpTo: null })
  })

  test('a change to a backfill with no row says it was forgotten', async () => {
    await expect(recordConclusion(client, 'gone', { failure: null, verified: false, verifyFailures: null, progress })).rejects.toThrow(
      'backfill "gone" has no state row to finish: it was forgotten while this command ran',
    )
  })
})
