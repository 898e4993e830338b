-- enrollday_all: one row per enrollment activation, deactivation or mode change: its time, the learner and the change it makes to the number of learners enrolled in each of the honor, verified and audit modes (+1, -1 or 0).
-- reads: enrollment_events
-- Each learner's enrollment is followed through their events in time order (at the same time:
-- activation, then mode change, then deactivation): after an activation the learner is enrolled
-- in its mode, after a deactivation not enrolled, and a mode change moves them to its mode,
-- enrolled or not as they were. An event's diff for a mode is (enrolled in it after the event)
-- minus (enrolled in it before). Before a learner's first event in the logs: an activation
-- finds them not enrolled, a deactivation enrolled in its mode, a mode change enrolled in a mode
-- the logs do not show (so only its +1 is counted). Summed over time, each column is the change
-- in that mode's enrollment. The events are those of enrollment_events (the learner is the
-- event's user_id, else the context's; other modes, e.g. professional, give 0 everywhere).
-- Where this differs from simeon, and why:
-- - suffix_start/suffix_end limit every event (through enrollment_events); in simeon's WHERE the
--   suffix filter binds to the activation test only (AND before OR), so deactivations and mode
--   changes of every day were read.
-- - a mode change counts -1 for the mode the learner leaves and +1 for the one they enter, in any
--   mode: simeon gives a change to verified +1 verified and a change to honor -1 verified, and
--   nothing else, so an audit learner upgrading to verified stayed in audit, a verified one moving
--   to audit stayed in verified, and a change to the mode a learner already has counted again.
-- - an activation of a learner already enrolled (in the same mode: 0; in another: a move) and a
--   mode change of a learner not enrolled (0) follow the learner's state; simeon counts +1 and -1
--   per event whatever came before.
WITH
events AS (
  SELECT
    e.time,
    e.user_id,
    e.mode,
    e.activated,
    e.deactivated,
    ROW_NUMBER() OVER (
      PARTITION BY e.user_id
      ORDER BY e.time, IF(e.activated, 0, IF(e.mode_changed, 1, 2)), e.mode
    ) AS seq
  FROM {{ latest_dataset }}.enrollment_events AS e
  WHERE e.activated OR e.deactivated OR e.mode_changed
),
switches AS (
  SELECT
    *,
    -- the learner's latest activation or deactivation so far: 2 x its seq, + 1 for an activation
    MAX(IF(activated, 2 * seq + 1, IF(deactivated, 2 * seq, NULL))) OVER (
      PARTITION BY user_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS last_switch
  FROM events
),
states AS (
  SELECT
    *,
    IF(
      user_id IS NULL OR last_switch IS NULL, NOT deactivated, MOD(last_switch, 2) = 1
    ) AS enrolled_after
  FROM switches
),
transitions AS (
  SELECT
    *,
    IF(
      user_id IS NOT NULL AND seq > 1,
      LAG(enrolled_after) OVER (PARTITION BY user_id ORDER BY seq),
      NOT activated
    ) AS enrolled_before,
    IF(
      user_id IS NOT NULL AND seq > 1,
      LAG(mode) OVER (PARTITION BY user_id ORDER BY seq),
      IF(deactivated, mode, NULL)
    ) AS mode_before
  FROM states
)
SELECT
  '{{ course_id }}' AS course_id,
  t.time,
  t.user_id,
  IF(t.enrolled_after AND t.mode = 'honor', 1, 0)
    - IF(t.enrolled_before AND t.mode_before = 'honor', 1, 0) AS diff_enrollment_honor,
  IF(t.enrolled_after AND t.mode = 'verified', 1, 0)
    - IF(t.enrolled_before AND t.mode_before = 'verified', 1, 0) AS diff_enrollment_verified,
  IF(t.enrolled_after AND t.mode = 'audit', 1, 0)
    - IF(t.enrolled_before AND t.mode_before = 'audit', 1, 0) AS diff_enrollment_audit
FROM transitions AS t
ORDER BY time, user_id, t.seq
