-- course_problem: one row per course_item problem: the mean and standard deviation of learners' raw
-- scores (items correct), the mean percentage and the number of learners (from person_item).
-- reads: person_item, course_item
-- sdv_problem_raw_score is the sample standard deviation (NULL with one learner), as BigQuery's
-- STDDEV in simeon. Ordered by avg_problem_pct_score descending as simeon, ties by problem_nid.
SELECT
  '{{ course_id }}' AS course_id,
  problem_nid,
  problem_id,
  problem_short_id,
  AVG(problem_grade) AS avg_problem_raw_score,
  STDDEV_SAMP(problem_grade) AS sdv_problem_raw_score,
  MAX(possible_raw_score) AS max_possible_raw_score,
  AVG(SAFE_DIVIDE(problem_grade, possible_raw_score) * 100) AS avg_problem_pct_score,
  COUNT(DISTINCT user_id) AS n_unique_users_attempted,
  problem_name,
  is_split,
  split_name
FROM (
  SELECT
    ci.problem_nid,
    ci.problem_id,
    ci.problem_short_id,
    ci.problem_name,
    ci.is_split,
    ci.split_name,
    pi.user_id,
    SUM(pi.item_grade) AS problem_grade,
    SUM(ci.item_points_possible) AS possible_raw_score
  FROM {{ latest_dataset }}.person_item AS pi
  JOIN {{ latest_dataset }}.course_item AS ci
    ON ci.item_nid = pi.item_nid
  GROUP BY
    ci.problem_nid,
    ci.problem_id,
    ci.problem_short_id,
    ci.problem_name,
    ci.is_split,
    ci.split_name,
    pi.user_id
)
GROUP BY problem_nid, problem_id, problem_short_id, problem_name, is_split, split_name
ORDER BY avg_problem_pct_score DESC, problem_nid
