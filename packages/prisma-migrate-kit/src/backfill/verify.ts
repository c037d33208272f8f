import type { ClientBase } from 'pg'
import type { Backfill, Row } from './definition'
import { StatementBuilder, type SqlFragment } from './sql'

export interface VerifyResult {
  /** Rows the verify query returned, counted up to VERIFY_COUNT_LIMIT (then `atLeast` is true). */
  failures: number
  atLeast: boolean
  /** The first few of them, to show what is not done. */
  sample: Row[]
}

const VERIFY_COUNT_LIMIT = 1_000
const SAMPLE = 5

/**
 * Runs a definition's verify query, read-only: rows it returns are rows not done. Counting stops at 1,000 so that a
 * backfill far from done does not turn a check into a full count.
 */
export async function runVerify(client: ClientBase, definition: Backfill): Promise<VerifyResult | undefined> {
  return definition.verify ? await countRows(client, definition.verify) : undefined
}

/** Runs a definition's precheck query the same way: rows it returns are rows the update cannot handle. */
export async function runPrecheck(client: ClientBase, definition: Backfill): Promise<VerifyResult | undefined> {
  return definition.precheck ? await countRows(client, definition.precheck) : undefined
}

/** The rows a query returns, counted up to VERIFY_COUNT_LIMIT, with the first few, in a READ ONLY transaction. */
async function countRows(client: ClientBase, query: SqlFragment): Promise<VerifyResult> {
  const counting = new StatementBuilder().text('SELECT count(*)::int AS failures FROM (SELECT 1 FROM (').fragment(query)
  const counted = counting.text(`) mk_verify LIMIT ${VERIFY_COUNT_LIMIT + 1}) mk_capped`).build()
  const sampling = new StatementBuilder().text('SELECT * FROM (').fragment(query).text(`) mk_verify LIMIT ${SAMPLE}`).build()
  await client.query('BEGIN READ ONLY')
  try {
    const count = await client.query<{ failures: number }>(counted.text, counted.values)
    const failures = count.rows[0]?.failures ?? 0
    const sample = failures > 0 ? (await client.query<Row>(sampling.text, sampling.values)).rows : []
    return { failures: Math.min(failures, VERIFY_COUNT_LIMIT), atLeast: failures > VERIFY_COUNT_LIMIT, sample }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined)
  }
}

export function describeVerify(result: VerifyResult): string {
  return describeRows('verify', 'not done', result)
}

export function describePrecheck(result: VerifyResult): string {
  return describeRows('precheck', 'the update cannot handle', result)
}

function describeRows(query: string, what: string, result: VerifyResult): string {
  const count = `${result.failures}${result.atLeast ? '+' : ''}`
  const first = result.sample.length > 0 ? `; first: ${result.sample.map((row) => JSON.stringify(row)).join(', ')}` : ''
  return `${query} returned ${count} row${result.failures === 1 ? '' : 's'} ${what}${first}`
}
