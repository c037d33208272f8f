-- Rollback of migration 20261123113457_expand_total_puzzles
-- Written by hand; `migrate-kit verify-rollbacks` proves it restores the schema before the migration.
-- WARNING: drops column users.total_puzzles_completed: its values are lost (a backfill snapshot or a backup can bring them back).

-- AlterTable
ALTER TABLE "users" DROP COLUMN "total_puzzles_completed";
