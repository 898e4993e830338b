-- time_on_asset_daily: per learner, day and module (block), the time spent on the module within a short and a long timeout.
-- reads: tracklog
-- on request
-- The time of an event on a module is the time since the learner's previous event on the same
-- module; it counts only when shorter than the timeout (a gap of the timeout or longer is a
-- break). time_umid5 uses extra_args timeout_short and time_umid30 timeout_long, in whole minutes
-- (default 5 and 30), whatever their values (the names are simeon's schema's).
-- * Events: the learner's tracking log events that name a module (the log's module_id, the
--   split's `Org/Num/Run/type/id`), `/xblock/` ones included (as simeon).
-- * A row per learner, day (UTC) and module with an event on that module; the time counts on the
--   day of the later event; NULL when no event of the day has a counted gap (the first event on
--   the module, or only long gaps).
-- Differences from simeon:
-- * simeon's timeouts are fixed at 5 and 30 minutes: here they are time_on_task's extra_args
--   timeout_short and timeout_long, so both time tables use the same ones;
-- * simeon counts whole seconds (TIMESTAMP_DIFF in SECOND truncates each gap): here gaps are
--   exact to the microsecond;
-- * simeon strips `"}` and `"]}}` from the end of a module_id and drops ids holding a quote
--   (leftovers of edx2bigquery's module ids): the split's module ids hold neither.
{%- set short = (timeout_short | default(5)) * 60 %}
{%- set long = (timeout_long | default(30)) * 60 %}
WITH gaps AS (
  SELECT
    l.username,
    l.time,
    l.module_id,
    TIMESTAMP_DIFF(
      l.time,
      LAG(l.time) OVER (PARTITION BY l.username, l.module_id ORDER BY l.time),
      MICROSECOND
    ) / 1.0E6 AS dt
  FROM {{ tracklog }} AS l
  WHERE l.username != ''
    AND l.module_id IS NOT NULL
)
SELECT
  '{{ course_id }}' AS course_id,
  DATE(g.time) AS date,
  g.username AS username,
  g.module_id AS module_id,
  SUM(IF(g.dt < {{ short }}, g.dt, NULL)) AS time_umid5,
  SUM(IF(g.dt < {{ long }}, g.dt, NULL)) AS time_umid30
FROM gaps AS g
GROUP BY date, username, module_id
ORDER BY date, module_id, username
