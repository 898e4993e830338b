-- person_problem: one row per learner and course_item problem: items correct (raw score) and their
-- percentage, the problem's grade, attempts and last date (from person_item).
-- reads: person_item, course_item
-- problem_raw_score is the number of the problem's items answered correctly; problem_pct_score is
-- that over the items' points possible (1 each), x 100.
SELECT
  pi.user_id,
  '{{ course_id }}' AS course_id,
  ci.problem_nid,
  CAST(SUM(pi.item_grade) AS INT64) AS problem_raw_score,
  SAFE_DIVIDE(SUM(pi.item_grade), SUM(ci.item_points_possible)) * 100 AS problem_pct_score,
  MAX(pi.grade) AS grade,
  MAX(pi.n_attempts) AS n_attempts,
  MAX(pi.date) AS date
FROM {{ latest_dataset }}.person_item AS pi
JOIN {{ latest_dataset }}.course_item AS ci
  ON ci.item_nid = pi.item_nid
GROUP BY pi.user_id, ci.problem_nid
ORDER BY pi.user_id, ci.problem_nid
