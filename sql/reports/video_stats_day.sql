-- video_stats_day: per day, learner and video, the furthest position (seconds) the learner's video events report.
-- reads: tracklog
-- Events: play_video, pause_video and stop_video (their currentTime, times speed when the event
-- gives one, as simeon), and seek_video (its old_time: where playback was when the learner
-- jumped; the target new_time is not counted as watched); also the mobile apps' edx.video.played,
-- .paused, .stopped and .position.changed, which simeon misses.
-- Unlike simeon: video_id is the block id as video_axis has it (the part after block@ of a
-- block-v1 key, the name of an i4x-Org-Num-video-name id, the last segment otherwise; dots as
-- underscores), so the two join: simeon's replaces every '-' by '/' and keeps the last segment,
-- which turns block-v1:...+block@id into 'v1:...+block@id' and cuts ids holding a '-'. Events
-- without a username or a video id are left out.
SELECT
  DATE(v.time) AS date,
  v.username AS username,
  v.video_id AS video_id,
  MAX(v.position) AS position
FROM (
  SELECT
    e.time,
    e.username,
    REPLACE(
      CASE
        WHEN REGEXP_CONTAINS(e.id, r'block@') THEN REGEXP_EXTRACT(e.id, r'block@([^@]*)$')
        WHEN REGEXP_CONTAINS(e.id, r'^i4x-') THEN REGEXP_EXTRACT(e.id, r'^i4x-[^-]*-[^-]*-[^-]*-(.+)$')
        ELSE REGEXP_EXTRACT(e.id, r'([^/]*)$')
      END,
      '.',
      '_'
    ) AS video_id,
    IF(e.seek, e.old_time, IFNULL(e.speed, 1.0) * e.playhead) AS position
  FROM (
    SELECT
      l.time,
      l.username,
      l.event_type IN ('seek_video', 'edx.video.position.changed') AS seek,
      IFNULL(l.event_struct.id, JSON_EXTRACT_SCALAR(l.event, '$.id')) AS id,
      COALESCE(
        l.event_struct.currentTime,
        l.event_struct.current_time,
        SAFE_CAST(JSON_EXTRACT_SCALAR(l.event, '$.currentTime') AS FLOAT64),
        SAFE_CAST(JSON_EXTRACT_SCALAR(l.event, '$.current_time') AS FLOAT64)
      ) AS playhead,
      IFNULL(
        l.event_struct.speed, SAFE_CAST(JSON_EXTRACT_SCALAR(l.event, '$.speed') AS FLOAT64)
      ) AS speed,
      IFNULL(
        l.event_struct.old_time, SAFE_CAST(JSON_EXTRACT_SCALAR(l.event, '$.old_time') AS FLOAT64)
      ) AS old_time
    FROM {{ tracklog }} AS l
    WHERE l.event_type IN (
        'play_video', 'pause_video', 'stop_video', 'seek_video',
        'edx.video.played', 'edx.video.paused', 'edx.video.stopped', 'edx.video.position.changed'
      )
      AND l.username IS NOT NULL
      AND l.username != ''
      AND l.event IS NOT NULL
  ) AS e
) AS v
WHERE v.video_id IS NOT NULL AND v.video_id != ''
GROUP BY 1, 2, 3
ORDER BY date, username, video_id
