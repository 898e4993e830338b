-- show_answer: the course's show-answer events (a learner clicked "Show answer" on a problem), one row each: when, who and which problem.
-- reads: tracklog
-- The events are simeon's (event_type show_answer or showanswer); the problem is the log's
-- module_id (Org/Num/Run/problem/id, as studentmodule and course_axis write it), so the rows join
-- to problem_grades. suffix_start/suffix_end limit the log, as in simeon.
-- No difference from simeon's query.
SELECT
  l.time AS time,
  l.username AS username,
  '{{ course_id }}' AS course_id,
  l.module_id AS module_id
FROM {{ tracklog }} AS l
WHERE l.event_type IN ('show_answer', 'showanswer')
ORDER BY time, username, module_id
