-- show_answer_stats_by_user: one row per learner with a problem in problem_grades: how many of their problems they asked to see the answer of, overall and among the problems not attempted, attempted, answered perfectly and with partial credit, as counts and percentages, with the learner's explored, certified and verified flags.
-- reads: problem_grades, show_answer, user_info_combo, person_course
-- A problem is seen when the learner has a problem_grades (studentmodule) row for it; it counts as
-- shown when show_answer has at least one event of the learner (username -> user_id through
-- user_info_combo) for that module_id, whenever it happened (before or after the learner's
-- answer). pct_show_answer_X = n_show_answer_X / n_X x 100, NULL when n_X is 0.
-- Where this differs from simeon, and why:
-- - explored, certified and verified are the learner's person_course values (verified: its mode
--   is verified), as in edx2bigquery; simeon leaves them NULL placeholders ("replace when
--   person_course is filled in"), which left every *_explored/_certified/_verified column of
--   show_answer_stats_by_course NULL. They are NULL for a learner person_course does not have
--   (every learner with a problem keeps a row, as in simeon; edx2bigquery dropped those and
--   course staff). Reading person_course builds this table (and show_answer_stats_by_course)
--   after it, where simeon's order has them before it.
-- - a partial answer is one with some credit but not full marks (0 < grade < max_grade), as the
--   column descriptions say; simeon's query counts every grade > 0, perfect ones too.
WITH
shown AS (
  SELECT
    uic.user_id,
    sa.module_id,
    COUNT(*) AS n_show_answer
  FROM {{ latest_dataset }}.show_answer AS sa
  JOIN {{ latest_dataset }}.user_info_combo AS uic
    ON uic.username = sa.username
  GROUP BY uic.user_id, sa.module_id
),
counts AS (
  SELECT
    pg.user_id,
    COUNTIF(s.n_show_answer > 0) AS n_show_answer_problem_seen,
    COUNT(*) AS n_problems_seen,
    COUNTIF(NOT pg.attempted AND s.n_show_answer > 0) AS n_show_answer_not_attempted,
    COUNTIF(NOT pg.attempted) AS n_not_attempted,
    COUNTIF(pg.attempted AND s.n_show_answer > 0) AS n_show_answer_attempted,
    COUNTIF(pg.attempted) AS n_attempted,
    COUNTIF(pg.perfect AND s.n_show_answer > 0) AS n_show_answer_perfect,
    COUNTIF(pg.perfect) AS n_perfect,
    COUNTIF(pg.grade > 0 AND pg.grade < pg.max_grade AND s.n_show_answer > 0)
      AS n_show_answer_partial,
    COUNTIF(pg.grade > 0 AND pg.grade < pg.max_grade) AS n_partial
  FROM {{ latest_dataset }}.problem_grades AS pg
  LEFT JOIN shown AS s
    ON s.user_id = pg.user_id AND s.module_id = pg.module_id
  GROUP BY pg.user_id
)
SELECT
  c.user_id,
  pc.explored,
  pc.certified,
  IF(pc.user_id IS NULL, NULL, COALESCE(pc.mode = 'verified', FALSE)) AS verified,
  SAFE_DIVIDE(c.n_show_answer_problem_seen, c.n_problems_seen) * 100
    AS pct_show_answer_problem_seen,
  SAFE_DIVIDE(c.n_show_answer_not_attempted, c.n_not_attempted) * 100
    AS pct_show_answer_not_attempted,
  SAFE_DIVIDE(c.n_show_answer_attempted, c.n_attempted) * 100 AS pct_show_answer_attempted,
  SAFE_DIVIDE(c.n_show_answer_perfect, c.n_perfect) * 100 AS pct_show_answer_perfect,
  SAFE_DIVIDE(c.n_show_answer_partial, c.n_partial) * 100 AS pct_show_answer_partial,
  c.n_show_answer_problem_seen,
  c.n_problems_seen,
  c.n_show_answer_not_attempted,
  c.n_not_attempted,
  c.n_show_answer_attempted,
  c.n_attempted,
  c.n_show_answer_perfect,
  c.n_perfect,
  c.n_show_answer_partial,
  c.n_partial
FROM counts AS c
LEFT JOIN {{ latest_dataset }}.person_course AS pc
  ON pc.user_id = c.user_id
ORDER BY user_id
