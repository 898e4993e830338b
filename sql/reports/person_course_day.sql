-- person_course_day: per learner and day, counts of their events, videos, forum reads and posts and problems, and the times between their events.
-- reads: tracklog, video_stats_day, forum_events, course_axis, user_info_combo
-- optional: person_problem, course_problem
-- One row per learner (username) and day (UTC) on which the learner has a tracking log event, a
-- video_stats_day row, a forum read or post in forum_events, or (when the course has the item
-- tables) a problem in person_problem whose last answer was on that day.
-- * Event counts are over the learner's tracking log events of the day, leaving out `/xblock/`
--   events (as simeon): nevents all of them, the others by event_type (nvideo: play_video,
--   nforum/nprogcheck: `/courses/{course}/discussion...` and `.../progress...` in either course id
--   format, matched as a prefix: simeon's LIKE reads the `_` of a course id as a wildcard).
-- * dt: the seconds from the learner's previous event (xblock events left out, across days and
--   within the logs read), ignored when over 5 minutes; avg/sdv (sample)/max/n/sum of the day's.
-- * nvideos_viewed, nvideos_watched_sec: distinct videos and the sum of their furthest positions
--   (video_stats_day); nforum_reads/nforum_posts: forum_events read/read_inline and
--   reply/comment_reply/created_* actions, nforum_threads the distinct threads of those.
-- * nproblems_answered: distinct problems, nproblems_attempted: their attempts, nproblems_<type>:
--   by course_axis data.itype (joined on course_problem.problem_id = url_name); all 0 without
--   person_problem/course_problem.
-- Differences from simeon, whose query unions these inputs with filler values:
-- * its filler '' counts as one more video and thread in COUNT(DISTINCT): nvideos_viewed and
--   nforum_threads here are the real numbers;
-- * its video, forum and problem rows add dt = 0 to n_dt/avg_dt/sdv_dt and a midnight (the video
--   rows' date) to first_event: here dt, first_event and last_event come from the tracking log
--   events only (NULL on a day with none);
-- * it compares data.itype with 'forumula', which no problem has: nproblems_forumula counts
--   formularesponse problems; nproblems_other counts every problem of no listed type, also one
--   with no course_axis type (simeon: 0), so the nproblems_<type> add up to nproblems_answered;
-- * problems of a user_id not in user_info_combo, and rows without a username, are left out
--   (simeon gives them a NULL or '' username);
-- * suffix_start/suffix_end limit every input to those days, not only the tracking log.
WITH events AS (
  SELECT
    l.username,
    l.time,
    l.event_type,
    TIMESTAMP_DIFF(
      l.time, LAG(l.time) OVER (PARTITION BY l.username ORDER BY l.time), MICROSECOND
    ) / 1.0E6 AS dt
  FROM {{ tracklog }} AS l
  WHERE l.username != ''
    AND NOT IFNULL(l.event_type, '') LIKE '%/xblock/%'
),
event_days AS (
  SELECT
    e.username,
    DATE(e.time) AS date,
    COUNT(*) AS nevents,
    COUNTIF(
      STARTS_WITH(e.event_type, '/courses/{{ course_id }}/progress')
      OR STARTS_WITH(
        e.event_type, CONCAT('/courses/course-v1:', REPLACE('{{ course_id }}', '/', '+'), '/progress')
      )
    ) AS nprogcheck,
    COUNTIF(e.event_type IN ('show_answer', 'showanswer')) AS nshow_answer,
    COUNTIF(e.event_type = 'play_video') AS nvideo,
    COUNTIF(e.event_type = 'problem_check') AS nproblem_check,
    COUNTIF(
      STARTS_WITH(e.event_type, '/courses/{{ course_id }}/discussion')
      OR STARTS_WITH(
        e.event_type,
        CONCAT('/courses/course-v1:', REPLACE('{{ course_id }}', '/', '+'), '/discussion')
      )
    ) AS nforum,
    COUNTIF(e.event_type = 'show_transcript') AS ntranscript,
    COUNTIF(e.event_type = 'seq_goto') AS nseq_goto,
    COUNTIF(e.event_type = 'seek_video') AS nseek_video,
    COUNTIF(e.event_type = 'pause_video') AS npause_video,
    MIN(e.time) AS first_event,
    MAX(e.time) AS last_event,
    AVG(IF(e.dt <= 300, e.dt, NULL)) AS avg_dt,
    STDDEV_SAMP(IF(e.dt <= 300, e.dt, NULL)) AS sdv_dt,
    MAX(IF(e.dt <= 300, e.dt, NULL)) AS max_dt,
    COUNT(IF(e.dt <= 300, e.dt, NULL)) AS n_dt,
    SUM(IF(e.dt <= 300, e.dt, NULL)) AS sum_dt
  FROM events AS e
  GROUP BY 1, 2
),
video_days AS (
  SELECT
    v.username,
    v.date,
    COUNT(DISTINCT v.video_id) AS nvideos_viewed,
    SUM(v.position) AS nvideos_watched_sec
  FROM {{ latest_dataset }}.video_stats_day AS v
  WHERE v.username != ''
{%- if suffix_start is defined %}
    AND v.date >= PARSE_DATE('%Y%m%d', '{{ suffix_start }}')
{%- endif %}
{%- if suffix_end is defined %}
    AND v.date <= PARSE_DATE('%Y%m%d', '{{ suffix_end }}')
{%- endif %}
  GROUP BY 1, 2
),
forum_days AS (
  SELECT
    f.username,
    DATE(f.time) AS date,
    COUNTIF(f.forum_action IN ('read', 'read_inline')) AS nforum_reads,
    COUNTIF(f.forum_action NOT IN ('read', 'read_inline')) AS nforum_posts,
    COUNT(DISTINCT NULLIF(f.thread_id, '')) AS nforum_threads
  FROM {{ latest_dataset }}.forum_events AS f
  WHERE f.username != ''
    AND f.forum_action IN (
      'read', 'read_inline',
      'reply', 'comment_reply', 'created_thread', 'created_response', 'created_comment'
    )
{%- if suffix_start is defined %}
    AND DATE(f.time) >= PARSE_DATE('%Y%m%d', '{{ suffix_start }}')
{%- endif %}
{%- if suffix_end is defined %}
    AND DATE(f.time) <= PARSE_DATE('%Y%m%d', '{{ suffix_end }}')
{%- endif %}
  GROUP BY 1, 2
),
problem_days AS (
{%- if has_table('person_problem') and has_table('course_problem') %}
  SELECT
    u.username,
    DATE(pp.date) AS date,
    COUNT(DISTINCT pp.problem_nid) AS nproblems_answered,
    SUM(pp.n_attempts) AS nproblems_attempted,
    COUNTIF(t.itype = 'multiplechoiceresponse') AS nproblems_multiplechoice,
    COUNTIF(t.itype = 'choiceresponse') AS nproblems_choice,
    COUNTIF(t.itype = 'numericalresponse') AS nproblems_numerical,
    COUNTIF(t.itype = 'optionresponse') AS nproblems_option,
    COUNTIF(t.itype = 'customresponse') AS nproblems_custom,
    COUNTIF(t.itype = 'stringresponse') AS nproblems_string,
    COUNTIF(t.itype = 'mixed') AS nproblems_mixed,
    COUNTIF(t.itype = 'formularesponse') AS nproblems_forumula,
    COUNTIF(
      t.itype IS NULL
      OR t.itype NOT IN (
        'multiplechoiceresponse', 'choiceresponse', 'numericalresponse', 'optionresponse',
        'customresponse', 'stringresponse', 'mixed', 'formularesponse'
      )
    ) AS nproblems_other
  FROM {{ latest_dataset }}.person_problem AS pp
  JOIN {{ latest_dataset }}.user_info_combo AS u
    ON u.user_id = pp.user_id
  LEFT JOIN (
    SELECT cp.problem_nid, MIN(ca.data.itype) AS itype
    FROM {{ latest_dataset }}.course_problem AS cp
    LEFT JOIN {{ latest_dataset }}.course_axis AS ca
      ON ca.url_name = cp.problem_id AND ca.category = 'problem'
    GROUP BY cp.problem_nid
  ) AS t
    ON t.problem_nid = pp.problem_nid
  WHERE pp.date IS NOT NULL
    AND u.username != ''
{%- if suffix_start is defined %}
    AND DATE(pp.date) >= PARSE_DATE('%Y%m%d', '{{ suffix_start }}')
{%- endif %}
{%- if suffix_end is defined %}
    AND DATE(pp.date) <= PARSE_DATE('%Y%m%d', '{{ suffix_end }}')
{%- endif %}
  GROUP BY 1, 2
{%- else %}
  -- no person_problem/course_problem: no problem rows
  SELECT
    CAST(NULL AS STRING) AS username,
    CAST(NULL AS DATE) AS date,
    0 AS nproblems_answered,
    0 AS nproblems_attempted,
    0 AS nproblems_multiplechoice,
    0 AS nproblems_choice,
    0 AS nproblems_numerical,
    0 AS nproblems_option,
    0 AS nproblems_custom,
    0 AS nproblems_string,
    0 AS nproblems_mixed,
    0 AS nproblems_forumula,
    0 AS nproblems_other
  FROM {{ latest_dataset }}.user_info_combo AS u
  WHERE FALSE
{%- endif %}
),
days AS (
  SELECT username, date FROM event_days
  UNION DISTINCT
  SELECT username, date FROM video_days
  UNION DISTINCT
  SELECT username, date FROM forum_days
  UNION DISTINCT
  SELECT username, date FROM problem_days
)
-- (the CASTs keep DuckDB's sums and COUNT_IFs, HUGEINT there, as INT64)
SELECT
  d.username AS username,
  '{{ course_id }}' AS course_id,
  d.date AS date,
  CAST(IFNULL(e.nevents, 0) AS INT64) AS nevents,
  CAST(IFNULL(e.nprogcheck, 0) AS INT64) AS nprogcheck,
  CAST(IFNULL(e.nshow_answer, 0) AS INT64) AS nshow_answer,
  CAST(IFNULL(e.nvideo, 0) AS INT64) AS nvideo,
  CAST(IFNULL(e.nproblem_check, 0) AS INT64) AS nproblem_check,
  CAST(IFNULL(e.nforum, 0) AS INT64) AS nforum,
  CAST(IFNULL(e.ntranscript, 0) AS INT64) AS ntranscript,
  CAST(IFNULL(e.nseq_goto, 0) AS INT64) AS nseq_goto,
  CAST(IFNULL(e.nseek_video, 0) AS INT64) AS nseek_video,
  CAST(IFNULL(e.npause_video, 0) AS INT64) AS npause_video,
  CAST(IFNULL(v.nvideos_viewed, 0) AS INT64) AS nvideos_viewed,
  IFNULL(v.nvideos_watched_sec, 0.0) AS nvideos_watched_sec,
  CAST(IFNULL(f.nforum_reads, 0) AS INT64) AS nforum_reads,
  CAST(IFNULL(f.nforum_posts, 0) AS INT64) AS nforum_posts,
  CAST(IFNULL(f.nforum_threads, 0) AS INT64) AS nforum_threads,
  CAST(IFNULL(p.nproblems_answered, 0) AS INT64) AS nproblems_answered,
  CAST(IFNULL(p.nproblems_attempted, 0) AS INT64) AS nproblems_attempted,
  CAST(IFNULL(p.nproblems_multiplechoice, 0) AS INT64) AS nproblems_multiplechoice,
  CAST(IFNULL(p.nproblems_choice, 0) AS INT64) AS nproblems_choice,
  CAST(IFNULL(p.nproblems_numerical, 0) AS INT64) AS nproblems_numerical,
  CAST(IFNULL(p.nproblems_option, 0) AS INT64) AS nproblems_option,
  CAST(IFNULL(p.nproblems_custom, 0) AS INT64) AS nproblems_custom,
  CAST(IFNULL(p.nproblems_string, 0) AS INT64) AS nproblems_string,
  CAST(IFNULL(p.nproblems_mixed, 0) AS INT64) AS nproblems_mixed,
  CAST(IFNULL(p.nproblems_forumula, 0) AS INT64) AS nproblems_forumula,
  CAST(IFNULL(p.nproblems_other, 0) AS INT64) AS nproblems_other,
  e.first_event AS first_event,
  e.last_event AS last_event,
  e.avg_dt AS avg_dt,
  e.sdv_dt AS sdv_dt,
  e.max_dt AS max_dt,
  CAST(IFNULL(e.n_dt, 0) AS INT64) AS n_dt,
  e.sum_dt AS sum_dt
FROM days AS d
LEFT JOIN event_days AS e
  ON e.username = d.username AND e.date = d.date
LEFT JOIN video_days AS v
  ON v.username = d.username AND v.date = d.date
LEFT JOIN forum_days AS f
  ON f.username = d.username AND f.date = d.date
LEFT JOIN problem_days AS p
  ON p.username = d.username AND p.date = d.date
ORDER BY date, username
