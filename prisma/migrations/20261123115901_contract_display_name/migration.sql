/*
  Warnings:

  - You are about to drop the column `username` on the `users` table. All the data in the column will be lost.
  - Made the column `display_name` on table `users` required. This step will fail if there are existing NULL values in that column.

*/
-- Contract, step 2 of 2 for users.display_name. Waits (migrate-kit deploy) until the users_display_name backfill is
-- done and verified. Edited after `migrate-kit new` to follow the lint's recipe: validate the CHECK added by the
-- previous migration (a scan that blocks no reads or writes), then SET NOT NULL, which PostgreSQL proves from the
-- validated CHECK without a second scan.
SET lock_timeout = '5s';

ALTER TABLE "users" VALIDATE CONSTRAINT "users_display_name_present";

ALTER TABLE "users" ALTER COLUMN "display_name" SET NOT NULL;

ALTER TABLE "users" DROP CONSTRAINT "users_display_name_present";

-- DropIndex
-- migrate-kit-ignore require-concurrent-index-deletion: the index goes with its column in the next statement anyway
DROP INDEX "users_username_key";

-- AlterTable
-- migrate-kit-ignore ban-drop-column: the release that reads display_name instead of username ships before this migration
ALTER TABLE "users" DROP COLUMN "username";
