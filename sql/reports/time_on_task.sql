-- time_on_task: per learner and day, the time spent in the course and on its videos, problems, forum and texts, within a short and a long timeout.
-- reads: tracklog
-- on request
-- The time of an event is the time since the learner's previous event (dt); it counts only when
-- shorter than the timeout, so a gap of the timeout or longer ends a session and is not counted.
-- The timeouts are extra_args timeout_short and timeout_long, in whole minutes (default 5 and 30):
-- the columns *_5 use the short one and *_30 the long one, whatever their values (the names are
-- simeon's schema's).
-- * Events: the learner's tracking log events but `/xblock/` ones (as simeon); each is a video
--   event (event_type matching `\w+_video` or `\w+_transcript`), a problem event (`problem_\w+`), a
--   forum event (`edx.forum.*`, `/discussion/forum|threads|comments`) or a text event
--   (`textbook.*`, `/wiki/`), or none of these.
-- * total_time: dt of every event; total_<kind>_time: for each event of the kind, the time since
--   the learner's previous event of that kind; serial_<kind>_time (long timeout only): for each
--   event of the kind, the time since the learner's previous event of any of the four kinds.
-- * A row per learner and day (UTC) with an event that has a previous one in the logs read (the
--   gap may cross midnight: it counts on the later day); a sum with nothing to add is NULL.
-- Differences from simeon:
-- * simeon's timeouts cannot be set: its template calls int(), which jinja does not have, and
--   names the columns after the values; here they work, and the columns keep their names;
-- * simeon counts whole seconds (TIMESTAMP_DIFF in SECOND truncates each gap): here gaps are
--   exact to the microsecond (a gap counts or not as in simeon);
-- * events at the same time are ordered by event_type (simeon leaves their order to chance, which
--   moves time between the serial_* columns).
{%- set short = (timeout_short | default(5)) * 60 %}
{%- set long = (timeout_long | default(30)) * 60 %}
WITH events AS (
  SELECT
    l.username,
    l.time,
    l.event_type,
    REGEXP_CONTAINS(l.event_type, r'\w+_video|\w+_transcript') AS is_video,
    REGEXP_CONTAINS(l.event_type, r'problem_\w+') AS is_problem,
    REGEXP_CONTAINS(
      l.event_type, r'^edx\.forum\..*|/discussion/forum|/discussion/threads|/discussion/comments'
    ) AS is_forum,
    REGEXP_CONTAINS(l.event_type, r'^textbook\..*|/wiki/') AS is_text
  FROM {{ tracklog }} AS l
  WHERE l.username != ''
    AND NOT REGEXP_CONTAINS(l.event_type, r'/xblock/')
),
kinds AS (
  SELECT
    e.*,
    e.is_video OR e.is_problem OR e.is_forum OR e.is_text AS is_xevent
  FROM events AS e
),
gaps AS (
  -- the seconds since the learner's previous event (of the same kind, of any of the four kinds)
  SELECT
    k.username,
    k.time,
    TIMESTAMP_DIFF(
      k.time,
      LAG(k.time) OVER (PARTITION BY k.username ORDER BY k.time, k.event_type),
      MICROSECOND
    ) / 1.0E6 AS dt,
    IF(
      k.is_video,
      TIMESTAMP_DIFF(
        k.time,
        LAG(k.time) OVER (PARTITION BY k.username, k.is_video ORDER BY k.time, k.event_type),
        MICROSECOND
      ) / 1.0E6,
      NULL
    ) AS dt_video,
    IF(
      k.is_problem,
      TIMESTAMP_DIFF(
        k.time,
        LAG(k.time) OVER (PARTITION BY k.username, k.is_problem ORDER BY k.time, k.event_type),
        MICROSECOND
      ) / 1.0E6,
      NULL
    ) AS dt_problem,
    IF(
      k.is_forum,
      TIMESTAMP_DIFF(
        k.time,
        LAG(k.time) OVER (PARTITION BY k.username, k.is_forum ORDER BY k.time, k.event_type),
        MICROSECOND
      ) / 1.0E6,
      NULL
    ) AS dt_forum,
    IF(
      k.is_text,
      TIMESTAMP_DIFF(
        k.time,
        LAG(k.time) OVER (PARTITION BY k.username, k.is_text ORDER BY k.time, k.event_type),
        MICROSECOND
      ) / 1.0E6,
      NULL
    ) AS dt_text,
    IF(
      k.is_xevent,
      TIMESTAMP_DIFF(
        k.time,
        LAG(k.time) OVER (PARTITION BY k.username, k.is_xevent ORDER BY k.time, k.event_type),
        MICROSECOND
      ) / 1.0E6,
      NULL
    ) AS dt_xevent,
    k.is_video,
    k.is_problem,
    k.is_forum,
    k.is_text
  FROM kinds AS k
)
SELECT
  '{{ course_id }}' AS course_id,
  DATE(g.time) AS date,
  g.username AS username,
  SUM(IF(g.dt < {{ short }}, g.dt, NULL)) AS total_time_5,
  SUM(IF(g.dt < {{ long }}, g.dt, NULL)) AS total_time_30,
  SUM(IF(g.dt_video < {{ short }}, g.dt_video, NULL)) AS total_video_time_5,
  SUM(IF(g.dt_video < {{ long }}, g.dt_video, NULL)) AS total_video_time_30,
  SUM(IF(g.is_video AND g.dt_xevent < {{ long }}, g.dt_xevent, NULL)) AS serial_video_time_30,
  SUM(IF(g.dt_problem < {{ short }}, g.dt_problem, NULL)) AS total_problem_time_5,
  SUM(IF(g.dt_problem < {{ long }}, g.dt_problem, NULL)) AS total_problem_time_30,
  SUM(IF(g.is_problem AND g.dt_xevent < {{ long }}, g.dt_xevent, NULL)) AS serial_problem_time_30,
  SUM(IF(g.dt_forum < {{ short }}, g.dt_forum, NULL)) AS total_forum_time_5,
  SUM(IF(g.dt_forum < {{ long }}, g.dt_forum, NULL)) AS total_forum_time_30,
  SUM(IF(g.is_forum AND g.dt_xevent < {{ long }}, g.dt_xevent, NULL)) AS serial_forum_time_30,
  SUM(IF(g.dt_text < {{ short }}, g.dt_text, NULL)) AS total_text_time_5,
  SUM(IF(g.dt_text < {{ long }}, g.dt_text, NULL)) AS total_text_time_30,
  SUM(IF(g.is_text AND g.dt_xevent < {{ long }}, g.dt_xevent, NULL)) AS serial_text_time_30
FROM gaps AS g
WHERE g.dt IS NOT NULL
GROUP BY date, username
ORDER BY date, username
