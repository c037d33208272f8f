import { performance } from 'node:perf_hooks'
import { openBenchClient } from './bench-client'

/** Rows a guide's loop reads per findMany. */
const PAGE_SIZE = 1_000

/**
 * (c): the loop that guides show for "backfill a column with Prisma": findMany a page of rows still to do, then
 * update them one by one. Timed on a sample (it would take hours on the whole table), after the client is connected
 * and has run a first query, so its start-up cost is not counted against it.
 */
export async function naiveLoop(databaseUrl: string, sampleRows: number): Promise<{ rows: number; ms: number }> {
  const prisma = await openBenchClient(databaseUrl)
  try {
    await prisma.$connect()
    await prisma.user.findMany({ where: { displayName: null }, orderBy: { id: 'asc' }, take: 1 })
    const started = performance.now()
    let rows = 0
    while (rows < sampleRows) {
      const users = await prisma.user.findMany({
        where: { displayName: null },
        orderBy: { id: 'asc' },
        take: Math.min(PAGE_SIZE, sampleRows - rows),
      })
      if (users.length === 0) break
      for (const user of users) {
        await prisma.user.update({ where: { id: user.id }, data: { displayName: user.username } })
        rows++
      }
    }
    return { rows, ms: performance.now() - started }
  } finally {
    await prisma.$disconnect()
  }
}
