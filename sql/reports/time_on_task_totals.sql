-- time_on_task_totals: per learner, the time spent in the course and on its videos, problems, forum and texts over all days of time_on_task.
-- reads: time_on_task
-- on request
-- Each column is the sum of the learner's time_on_task column of the same name (NULL when every
-- day's is), so the timeouts are time_on_task's: extra_args timeout_short (the *_5 columns) and
-- timeout_long (the *_30 ones), default 5 and 30 minutes.
-- Differences from simeon: none in the sums; simeon's template names its columns after the
-- timeouts it cannot be given (see time_on_task), here they keep the schema's names.
SELECT
  '{{ course_id }}' AS course_id,
  t.username AS username,
  SUM(t.total_time_5) AS total_time_5,
  SUM(t.total_time_30) AS total_time_30,
  SUM(t.total_video_time_5) AS total_video_time_5,
  SUM(t.total_video_time_30) AS total_video_time_30,
  SUM(t.serial_video_time_30) AS serial_video_time_30,
  SUM(t.total_problem_time_5) AS total_problem_time_5,
  SUM(t.total_problem_time_30) AS total_problem_time_30,
  SUM(t.serial_problem_time_30) AS serial_problem_time_30,
  SUM(t.total_forum_time_5) AS total_forum_time_5,
  SUM(t.total_forum_time_30) AS total_forum_time_30,
  SUM(t.serial_forum_time_30) AS serial_forum_time_30,
  SUM(t.total_text_time_5) AS total_text_time_5,
  SUM(t.total_text_time_30) AS total_text_time_30,
  SUM(t.serial_text_time_30) AS serial_text_time_30
FROM {{ latest_dataset }}.time_on_task AS t
GROUP BY username
ORDER BY username
