-- ora_events: the course's open response assessment (ORA) events, one row each, with the action, submission, points, feedback and module.
-- reads: tracklog
-- on request
-- The events whose event_type names openassessment: the server's `openassessmentblock.*` and
-- `openassessment.*` events and the browser's calls of an ORA block's handlers; a call that posts
-- and gets nothing (event `{"POST": {}, "GET": {}}`) and an event without payload are left out.
-- * action: the event name after `openassessmentblock.` or `openassessment.` (create_submission,
--   peer_assess, ...); for a handler call, its `handler/...` path.
-- * submission_uuid: the submission the event is about: `submission_returned_uuid` of
--   get_peer_submission and get_submission_for_staff_grading, `submission_uuid` of the other
--   server events that carry one.
-- * part1_points/part1_feedback: the first rubric criterion's points and comment of a peer, self
--   or staff assessment; attempt_num and answer_text: of create_submission (the first prompt's
--   text).
-- * module_id_sometimes: the ORA block the event names (the log's module_id); last_module_id: for
--   an event about a submission, the block its events name (the greatest, if they differ), which
--   gives one to events that name none; module_id the first of the two; problem_id its last part.
-- Differences from simeon:
-- * it finds the block in i4x keys (old course ids) of handler URLs and file keys, and in
--   get_peer_submission's item_id as the raw usage key (`block-v1:...`, whose problem_id is then
--   NULL: no `/`), so the other events of a course-v1 course name no block: here every event's
--   is the log's module_id (the split's Org/Num/Run/type/id, from the event's usage key or URL),
--   as in the other report tables;
-- * it takes submission_uuid only from peer_assess, self_assess, create_submission and
--   get_peer_submission, and points and feedback only from peer_assess and self_assess: here also
--   from staff_assess (all three), get_submission_for_staff_grading,
--   submit_feedback_on_assessments and openassessment.student_training_assess_example (the
--   submission); and `openassessment.*` events (upload_file, ...) get an action (simeon: NULL);
-- * answer_text: current ORA logs the answer as `answer.parts[].text`, which simeon's
--   `answer.text` misses: here `answer.text`, else the first part's text;
-- * last_module_id: simeon also fills it for events without a submission (the greatest block of
--   all of them); here it is NULL then;
-- * the empty-call filter compares the event without spaces, so the split's compact JSON
--   (`{"POST":{},"GET":{}}`) is left out too.
WITH ora AS (
  SELECT
    l.time,
    l.username,
    CASE
      WHEN REGEXP_CONTAINS(l.event_type, r'^openassessment(?:block)?\.')
        THEN REGEXP_EXTRACT(l.event_type, r'^openassessment(?:block)?\.(.*)$')
      WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.*/handler/')
        THEN REGEXP_EXTRACT(l.event_type, r'/courses/.*/(handler/.*)$')
    END AS action,
    CASE
      WHEN l.event_type IN (
        'openassessmentblock.get_peer_submission',
        'openassessmentblock.get_submission_for_staff_grading'
      )
        THEN JSON_EXTRACT_SCALAR(l.event, '$.submission_returned_uuid')
      WHEN REGEXP_CONTAINS(l.event_type, r'^openassessment(?:block)?\.')
        THEN JSON_EXTRACT_SCALAR(l.event, '$.submission_uuid')
    END AS submission_uuid,
    IF(
      l.event_type IN (
        'openassessmentblock.peer_assess',
        'openassessmentblock.self_assess',
        'openassessmentblock.staff_assess'
      ),
      JSON_EXTRACT_SCALAR(l.event, '$.parts[0].option.points'),
      NULL
    ) AS part1_points,
    IF(
      l.event_type IN (
        'openassessmentblock.peer_assess',
        'openassessmentblock.self_assess',
        'openassessmentblock.staff_assess'
      ),
      JSON_EXTRACT_SCALAR(l.event, '$.parts[0].feedback'),
      NULL
    ) AS part1_feedback,
    IF(
      l.event_type = 'openassessmentblock.create_submission',
      JSON_EXTRACT_SCALAR(l.event, '$.attempt_number'),
      NULL
    ) AS attempt_num,
    l.module_id AS module_id_sometimes,
    l.event_type,
    l.event,
    l.event_source,
    IF(
      l.event_type = 'openassessmentblock.create_submission',
      IFNULL(
        JSON_EXTRACT_SCALAR(l.event, '$.answer.text'),
        JSON_EXTRACT_SCALAR(l.event, '$.answer.parts[0].text')
      ),
      NULL
    ) AS answer_text
  FROM {{ tracklog }} AS l
  WHERE l.event_type LIKE '%openassessment%'
    AND l.event IS NOT NULL
    AND REPLACE(l.event, ' ', '') NOT IN ('{"POST":{},"GET":{}}', '{"GET":{},"POST":{}}')
),
linked AS (
  SELECT
    o.*,
    IF(
      o.submission_uuid IS NULL,
      NULL,
      MAX(o.module_id_sometimes) OVER (PARTITION BY o.submission_uuid)
    ) AS last_module_id
  FROM ora AS o
)
SELECT
  REGEXP_EXTRACT(IFNULL(k.module_id_sometimes, k.last_module_id), r'/([^/]+)$') AS problem_id,
  k.time AS time,
  k.username AS username,
  '{{ course_id }}' AS course_id,
  k.action AS action,
  k.submission_uuid AS submission_uuid,
  k.part1_points AS part1_points,
  k.part1_feedback AS part1_feedback,
  k.attempt_num AS attempt_num,
  k.module_id_sometimes AS module_id_sometimes,
  k.event_type AS event_type,
  k.event AS event,
  k.event_source AS event_source,
  k.answer_text AS answer_text,
  k.last_module_id AS last_module_id,
  IFNULL(k.module_id_sometimes, k.last_module_id) AS module_id
FROM linked AS k
ORDER BY time, username, event_type
