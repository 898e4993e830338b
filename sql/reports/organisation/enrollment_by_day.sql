-- enrollment_by_day: per course, day (UTC) and enrolment mode, the enrolments and unenrolments.
-- reads: enrollment_events
-- Counted from the tracking log's enrolment events (enrollment_events): an activation is an
-- enrolment, a deactivation an unenrolment, on the day and in the mode the event gives; a mode
-- change alone counts as neither and makes no row.
SELECT
  '{{ course_id }}' AS course_id,
  DATE(e.time) AS date,
  e.mode AS mode,
  COUNTIF(e.activated) AS enrollments,
  COUNTIF(e.deactivated) AS unenrollments
FROM {{ latest_dataset }}.enrollment_events AS e
WHERE e.activated OR e.deactivated
GROUP BY date, mode
