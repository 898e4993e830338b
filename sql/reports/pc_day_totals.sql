-- pc_day_totals: per learner, the totals of person_course_day over their active days.
-- reads: person_course_day
-- ndays_act is the number of the learner's person_course_day rows; the counts are summed;
-- first_event/last_event are the earliest and latest of the days'. The dt statistics are those of
-- all the learner's inter-event times (each under 5 minutes) taken together: n_dt and sum_dt are
-- summed, avg_dt = sum_dt / n_dt, and sdv_dt is the sample standard deviation of all of them, from
-- each day's count, mean and sample deviation (sum of squares = (n - 1) sdv^2 + n avg^2).
-- simeon takes the average of the daily averages for avg_dt (a day with one dt weighs as much as a
-- day with a thousand), and sqrt(sum(sdv^2 n) / sum(n)) for sdv_dt, which leaves out how the daily
-- means differ and counts the days with a single dt (no daily sdv) in the denominator only.
SELECT
  t.username AS username,
  '{{ course_id }}' AS course_id,
  t.ndays_act AS ndays_act,
  t.nevents AS nevents,
  t.nprogcheck AS nprogcheck,
  t.nshow_answer AS nshow_answer,
  t.nvideo AS nvideo,
  t.nproblem_check AS nproblem_check,
  t.nforum AS nforum,
  t.ntranscript AS ntranscript,
  t.nseq_goto AS nseq_goto,
  t.nseek_video AS nseek_video,
  t.npause_video AS npause_video,
  t.first_event AS first_event,
  t.last_event AS last_event,
  IF(t.n_dt > 0, t.sum_dt / t.n_dt, NULL) AS avg_dt,
  IF(
    t.n_dt > 1,
    SQRT(GREATEST(t.sum_sq - t.sum_dt * t.sum_dt / t.n_dt, 0) / (t.n_dt - 1)),
    NULL
  ) AS sdv_dt,
  t.max_dt AS max_dt,
  t.n_dt AS n_dt,
  t.sum_dt AS sum_dt
FROM (
  -- (the CASTs keep DuckDB's sums, HUGEINT there, as INT64)
  SELECT
    d.username,
    COUNT(*) AS ndays_act,
    CAST(SUM(d.nevents) AS INT64) AS nevents,
    CAST(SUM(d.nprogcheck) AS INT64) AS nprogcheck,
    CAST(SUM(d.nshow_answer) AS INT64) AS nshow_answer,
    CAST(SUM(d.nvideo) AS INT64) AS nvideo,
    CAST(SUM(d.nproblem_check) AS INT64) AS nproblem_check,
    CAST(SUM(d.nforum) AS INT64) AS nforum,
    CAST(SUM(d.ntranscript) AS INT64) AS ntranscript,
    CAST(SUM(d.nseq_goto) AS INT64) AS nseq_goto,
    CAST(SUM(d.nseek_video) AS INT64) AS nseek_video,
    CAST(SUM(d.npause_video) AS INT64) AS npause_video,
    MIN(d.first_event) AS first_event,
    MAX(d.last_event) AS last_event,
    MAX(d.max_dt) AS max_dt,
    CAST(SUM(d.n_dt) AS INT64) AS n_dt,
    SUM(d.sum_dt) AS sum_dt,
    -- the sum of the squares of the day's dt values
    SUM(
      IF(d.n_dt > 1, (d.n_dt - 1) * d.sdv_dt * d.sdv_dt, 0)
      + IF(d.n_dt > 0, d.n_dt * d.avg_dt * d.avg_dt, 0)
    ) AS sum_sq
  FROM {{ latest_dataset }}.person_course_day AS d
  GROUP BY d.username
) AS t
ORDER BY sum_dt DESC, username
