-- Rollback of prisma/migrations/20261123105730_init/migration.sql
--
-- WARNING: this destroys ALL DATA of the tables users, daily_puzzles and puzzle_completions (and the enum types
-- subscription_tier, subscription_status and difficulty). It reverts the whole example app's schema to empty.
--
-- Drops what init created, dependents first: puzzle_completions references users and daily_puzzles, and the tables
-- use the enum types. Indexes, foreign keys and the SERIAL sequences go with their tables. No CASCADE and no
-- IF EXISTS on purpose: an object added since (a view on users, say) makes this fail instead of vanishing with it.

DROP TABLE "puzzle_completions";

DROP TABLE "daily_puzzles";

DROP TABLE "users";

DROP TYPE "difficulty";

DROP TYPE "subscription_status";

DROP TYPE "subscription_tier";
