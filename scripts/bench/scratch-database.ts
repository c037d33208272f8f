// Internal helper (not part of the package API): the scratch databases verify-rollbacks uses, with the bench's prefix.
import { createScratchDatabase, type ScratchDatabase } from '../../packages/prisma-migrate-kit/src/db/scratch'

/** Every scratch database of the benchmark starts with this, so a leftover is easy to recognise (and to test for). */
export const BENCH_DATABASE_PREFIX = 'migrate_kit_bench_'

/** A new, empty database on the server of `serverUrl`; its drop() works while sessions are still connected. */
export function createBenchDatabase(serverUrl: string): Promise<ScratchDatabase> {
  return createScratchDatabase(serverUrl, { prefix: BENCH_DATABASE_PREFIX, purpose: 'npm run bench' })
}
