-- Expand: a new column with no default (or a constant one) is a catalog change only; the lock is brief, but it must
-- not queue behind a long transaction while every other query queues behind it.
SET lock_timeout = '5s';

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "total_puzzles_completed" INTEGER NOT NULL DEFAULT 0;
