-- pc_day_trlang: per learner, day and transcript language, the number of transcript downloads and language loads.
-- reads: tracklog
-- Two kinds of event: a transcript_language event (a video loads a transcript translation; the
-- language is the end of its URL) and a transcript_download (a click on a transcript download
-- link; its language is the last one the learner loaded before it, 'en' when none).
SELECT
  e.username AS username,
  '{{ course_id }}' AS course_id,
  DATE(e.time) AS date,
  MAX(e.time) AS last_time,
  'video' AS resource,
  IF(
    e.resource_event_type = 'transcript_download',
    IFNULL(e.previous_language, 'en'),
    e.language
  ) AS resource_event_data,
  e.resource_event_type AS resource_event_type,
  COUNT(*) AS langcount
FROM (
  SELECT
    t.username,
    t.time,
    t.resource_event_type,
    t.language,
    LAST_VALUE(t.language IGNORE NULLS) OVER (
      PARTITION BY t.username ORDER BY t.time
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS previous_language
  FROM (
    SELECT
      l.username,
      l.time,
      IF(
        REGEXP_CONTAINS(l.event_type, r'/transcript/translation/'),
        'transcript_language',
        'transcript_download'
      ) AS resource_event_type,
      REGEXP_EXTRACT(l.event_type, r'/handler/transcript/translation/(.*)') AS language
    FROM {{ tracklog }} AS l
    WHERE l.username != ''
      AND l.time > TIMESTAMP '2010-10-01 01:02:03'
      AND (
        REGEXP_CONTAINS(l.event_type, r'/transcript/translation/')
        OR (
          l.event_type = 'edx.ui.lms.link_clicked'
          AND REGEXP_CONTAINS(
            JSON_EXTRACT_SCALAR(l.event, '$.target_url'), r'handler/transcript/download'
          )
        )
      )
  ) AS t
) AS e
GROUP BY 1, 3, 6, 7
ORDER BY date, username, resource_event_data, resource_event_type
