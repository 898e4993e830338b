-- person_enrollment_verified: per learner who moved into or out of the verified track, the first and last such time.
-- reads: enrollment_events
-- As in simeon (and edx2bigquery): the events counted are a change of mode to verified and a
-- deactivation in verified mode; the unenroll time is the last of them when it differs from the first.
SELECT
  '{{ course_id }}' AS course_id,
  e.user_id AS user_id,
  MIN(e.time) AS verified_enroll_time,
  IF(MAX(e.time) = MIN(e.time), NULL, MAX(e.time)) AS verified_unenroll_time
FROM {{ latest_dataset }}.enrollment_events AS e
WHERE e.mode = 'verified'
  AND (e.deactivated OR (NOT e.activated AND e.mode_changed))
GROUP BY user_id
ORDER BY verified_enroll_time, user_id
