-- problem_check: the course's graded answers to problems (server problem_check events), one row each, with the answers, attempt, success and grade.
-- reads: tracklog
-- on request
-- One row per server-side `problem_check` (or edx2bigquery's `save_problem_check`) event: the
-- learner's answers as the event logged them, the attempt's number, whether it was right
-- (`correct`/`incorrect`) and the points it earned. The browser's problem_check events (the
-- answers as a query string, nothing graded) are left out.
-- Differences from simeon:
-- * simeon reads every tracklog shard whatever suffix_start/suffix_end say: here they limit the
--   days read, as in the other log reports;
-- * simeon ships no schema for it (its columns are those of the query): the schema here gives
--   the same names with the log's types.
SELECT
  l.time AS time,
  l.username AS username,
  '{{ course_id }}' AS course_id,
  l.module_id AS module_id,
  l.event_struct.answers AS student_answers,
  l.event_struct.attempts AS attempts,
  l.event_struct.success AS success,
  l.event_struct.grade AS grade
FROM {{ tracklog }} AS l
WHERE l.event_type IN ('problem_check', 'save_problem_check')
  AND l.event_source = 'server'
ORDER BY time, username, module_id
