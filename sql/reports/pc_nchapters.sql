-- pc_nchapters: per learner, the number of distinct chapters they touched (have a studentmodule row in).
-- reads: studentmodule, course_axis
SELECT
  sm.student_id AS user_id,
  COUNT(DISTINCT ca.chapter_mid) AS nchapters
FROM {{ latest_dataset }}.studentmodule AS sm
JOIN {{ latest_dataset }}.course_axis AS ca
  ON ca.module_id = sm.module_id
WHERE ca.chapter_mid IS NOT NULL
GROUP BY user_id
ORDER BY user_id
