-- Puzzle completions whose user or puzzle is gone. The foreign keys forbid them, but they get in when FK triggers
-- are bypassed (a restore with session_replication_role = replica, a bulk load with triggers disabled) or when a
-- foreign key is added NOT VALID over rows that were already orphaned.
SELECT c.id, c.user_id, c.puzzle_id, c.completed_at,
       NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id) AS user_missing,
       NOT EXISTS (SELECT 1 FROM daily_puzzles p WHERE p.id = c.puzzle_id) AS puzzle_missing
  FROM puzzle_completions c
 WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)
    OR NOT EXISTS (SELECT 1 FROM daily_puzzles p WHERE p.id = c.puzzle_id)
 ORDER BY c.id;
