-- Contract, step 1 of 2 for users.display_name (after the users_display_name backfill).
-- A CHECK added NOT VALID takes its lock only for a moment and scans nothing; from now on every new or updated row
-- must have a display_name, which the expand release already writes. The next migration validates it.
SET lock_timeout = '5s';

ALTER TABLE "users" ADD CONSTRAINT "users_display_name_present" CHECK ("display_name" IS NOT NULL) NOT VALID;
