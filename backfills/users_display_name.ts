import { defineBackfill, sql } from 'prisma-migrate-kit'

/**
 * Expand → backfill → contract for users.display_name: the expand migration added the column as nullable and the
 * app writes it for new users; this copies username into it for everyone else. The contract migrations (NOT NULL,
 * then dropping username) wait until this is done and verified.
 */
export default defineBackfill({
  name: 'users_display_name',
  after: '20261123113452_expand_display_name',
  before: '20261123115901_contract_display_name',
  table: 'users',
  key: 'id',
  update: sql`display_name = username`,
  where: sql`display_name IS NULL`,
  verify: sql`SELECT id FROM users WHERE display_name IS NULL`,
  snapshot: ['display_name'],
  invalidate: ['user:{id}'],
})
