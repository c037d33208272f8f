-- Rollback of migration 20261123115833_contract_display_name_check
-- Written by hand: Prisma's diff does not see CHECK constraints. `migrate-kit verify-rollbacks` proves it.
-- No data is lost: only the constraint goes.

ALTER TABLE "users" DROP CONSTRAINT "users_display_name_present";
