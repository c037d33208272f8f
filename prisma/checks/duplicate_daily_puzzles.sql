-- Daily puzzles published twice: the same date, difficulty and variant once case and whitespace are ignored. The
-- unique constraint (puzzle_date, variant, difficulty) compares the variant exactly, so 'Classic', 'classic' and
-- ' classic ' all get in, and players see the same day's puzzle several times.
SELECT puzzle_date, difficulty, lower(regexp_replace(variant, '\s', '', 'g')) AS variant,
       count(*) AS copies, array_agg(id ORDER BY id) AS ids, array_agg(variant ORDER BY id) AS spellings
  FROM daily_puzzles
 GROUP BY puzzle_date, difficulty, lower(regexp_replace(variant, '\s', '', 'g'))
HAVING count(*) > 1
 ORDER BY puzzle_date, difficulty, 3;
