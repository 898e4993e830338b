-- problem_grades: one row per learner and problem they have a studentmodule row for (opened it): the grade, the points possible and whether they attempted it and got full marks.
-- reads: studentmodule
-- attempted: the problem has a grade (studentmodule.grade is loaded as a number, edX's "NULL"
-- as NULL, so this is simeon's test of NULL, "NULL" and ""); perfect: the grade reaches the
-- points possible (false when either is unknown), as in simeon.
-- No difference from simeon's query.
SELECT
  sm.student_id AS user_id,
  sm.module_id AS module_id,
  SAFE_CAST(sm.grade AS FLOAT64) AS grade,
  SAFE_CAST(sm.max_grade AS FLOAT64) AS max_grade,
  COALESCE(SAFE_CAST(sm.grade AS FLOAT64) >= SAFE_CAST(sm.max_grade AS FLOAT64), FALSE) AS perfect,
  sm.grade IS NOT NULL AS attempted
FROM {{ latest_dataset }}.studentmodule AS sm
WHERE sm.module_type = 'problem'
ORDER BY user_id, module_id
