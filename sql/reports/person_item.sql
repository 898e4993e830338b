-- person_item: one row per learner and course_item item: whether their answer is correct (item_grade),
-- the problem's grade, their attempts and when (the item-response model's person-item table).
-- reads: problem_analysis, course_item
-- From each learner's latest problem_analysis row holding the item (simeon groups by the grade and
-- attempts as well, so a learner with two rows for a problem would get two rows for the item).
-- grade is the grade of the whole problem (problem_analysis.grade), as in simeon.
SELECT
  pa.user_id,
  '{{ course_id }}' AS course_id,
  ci.item_short_id,
  ci.item_nid,
  pa.item_grade,
  pa.grade,
  pa.n_attempts,
  pa.date
FROM (
  SELECT
    p.user_id,
    p.problem_url_name AS problem_id,
    it.answer_id AS item_id,
    CAST(IF(it.correct_bool, 1, 0) AS INT64) AS item_grade,
    p.grade,
    p.attempts AS n_attempts,
    p.created AS date
  FROM {{ latest_dataset }}.problem_analysis AS p
  CROSS JOIN UNNEST(p.item) AS it
  WHERE p.user_id IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY p.user_id, p.problem_url_name, it.answer_id
    ORDER BY p.created DESC, p.attempts DESC, p.grade DESC, it.correct_bool DESC
  ) = 1
) AS pa
JOIN {{ latest_dataset }}.course_item AS ci
  ON ci.problem_id = pa.problem_id
  AND ci.item_id = pa.item_id
ORDER BY pa.user_id, ci.content_index, ci.item_number
