import { defineBackfill, sql } from 'prisma-migrate-kit'

/**
 * Fills users.total_puzzles_completed (added with DEFAULT 0 by the expand migration) with each user's real count.
 * The app increments it on every new completion from the expand release on, so the count stays true afterwards.
 * A snapshot keeps the old values: `backfill report users_total_puzzles` shows every change, and `backfill restore`
 * puts them back if the count turns out wrong.
 */
export default defineBackfill({
  name: 'users_total_puzzles',
  after: '20261123113457_expand_total_puzzles',
  table: 'users',
  key: 'id',
  update: sql`total_puzzles_completed = (SELECT count(*) FROM puzzle_completions c WHERE c.user_id = users.id)`,
  verify: sql`SELECT u.id FROM users u
               WHERE u.total_puzzles_completed <> (SELECT count(*) FROM puzzle_completions c WHERE c.user_id = u.id)`,
  snapshot: ['total_puzzles_completed'],
  invalidate: ['user:{id}', 'leaderboard:*'],
})
