-- chapter_grades: one row per learner and chapter in which they have a graded problem: their points earned and possible there, the chapter's due dates, and over the chapter's learners the median points earned and the highest points possible.
-- reads: problem_grades, course_axis
-- As in simeon: only problems with a grade count (problem_grades.grade not NULL), each with its
-- points (problems are not weighted equally), placed in their chapter through course_axis by
-- module_id (a problem no longer in the course is left out). median_grade is the lower median of
-- chgrade over the chapter's learners (PERCENTILE_DISC 0.5: for an even number of learners the
-- smaller middle value); chmax the largest user_chapter_max_grade of the chapter (simeon takes
-- the first of them sorted from the largest, the same value).
-- No difference from simeon's query.
WITH
chapters AS (
  SELECT
    pg.user_id,
    ca.chapter_mid,
    SUM(pg.max_grade) AS user_chapter_max_grade,
    SUM(pg.grade) AS chgrade,
    MAX(ca.due) AS due_date_max,
    MIN(ca.due) AS due_date_min
  FROM {{ latest_dataset }}.problem_grades AS pg
  JOIN {{ latest_dataset }}.course_axis AS ca
    ON ca.module_id = pg.module_id
  WHERE pg.grade IS NOT NULL
  GROUP BY pg.user_id, ca.chapter_mid
)
SELECT
  c.user_id,
  c.chapter_mid,
  c.user_chapter_max_grade,
  c.chgrade,
  c.due_date_max,
  c.due_date_min,
  PERCENTILE_DISC(c.chgrade, 0.5) OVER (PARTITION BY c.chapter_mid) AS median_grade,
  MAX(c.user_chapter_max_grade) OVER (PARTITION BY c.chapter_mid) AS chmax
FROM chapters AS c
ORDER BY user_id, chapter_mid
