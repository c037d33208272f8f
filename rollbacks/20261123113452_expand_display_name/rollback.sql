-- Rollback of migration 20261123113452_expand_display_name
-- Written by hand; `migrate-kit verify-rollbacks` proves it restores the schema before the migration.
-- WARNING: drops column users.display_name: its values are lost (a backfill snapshot or a backup can bring them back).

-- AlterTable
ALTER TABLE "users" DROP COLUMN "display_name";
