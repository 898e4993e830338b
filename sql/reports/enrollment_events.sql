-- enrollment_events: the course's enrollment events (activated, deactivated, mode changed, upgraded) with the mode.
-- reads: tracklog
SELECT
  '{{ course_id }}' AS course_id,
  l.time AS time,
  IFNULL(l.event_struct.user_id, l.context.user_id) AS user_id,
  IFNULL(l.event_struct.mode, JSON_EXTRACT_SCALAR(l.event, '$.mode')) AS mode,
  l.event_type = 'edx.course.enrollment.activated' AS activated,
  l.event_type = 'edx.course.enrollment.deactivated' AS deactivated,
  l.event_type = 'edx.course.enrollment.mode_changed' AS mode_changed,
  l.event_type = 'edx.course.enrollment.upgrade.succeeded' AS upgraded,
  l.event_type AS event_type
FROM {{ tracklog }} AS l
WHERE l.event_type LIKE '%edx.course.enrollment%'
ORDER BY time
