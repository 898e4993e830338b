-- pc_video_watched: per student, the number of the course's videos they watched and that number's fraction of all of them.
-- reads: video_stats_day, user_info_combo, video_axis
-- optional: roles
-- A video counts as watched when the learner has a video_stats_day row for it (any play, pause,
-- stop or seek). Students: learners in user_info_combo, less those whose roles row says Staff
-- when the course has a roles table.
-- Unlike simeon: a learner without a roles row is a student (simeon's inner join with roles drops
-- every learner who has no role at all), and only videos of video_axis count, in both columns, so
-- the fraction is at most 1 (simeon also counts ids that are no video of the course).
WITH
  videos AS (
    SELECT DISTINCT va.video_id
    FROM {{ latest_dataset }}.video_axis AS va
    WHERE va.video_id IS NOT NULL
  ),
  watched AS (
    SELECT DISTINCT vs.username, vs.video_id
    FROM {{ latest_dataset }}.video_stats_day AS vs
    JOIN videos
      ON videos.video_id = vs.video_id
  )
SELECT
  uic.user_id AS user_id,
  '{{ course_id }}' AS course_id,
  COUNT(*) AS n_unique_videos_watched,
  SAFE_DIVIDE(COUNT(*), (SELECT COUNT(*) FROM videos)) AS fract_total_videos_watched,
  IFNULL(uic.certificate_status = 'downloadable', FALSE) AS certified,
  IFNULL(TRIM(uic.enrollment_mode) = 'verified', FALSE) AS verified
FROM watched AS w
JOIN {{ latest_dataset }}.user_info_combo AS uic
  ON uic.username = w.username
{%- if has_table('roles') %}
LEFT JOIN {{ latest_dataset }}.roles AS r
  ON r.user_id = uic.user_id
WHERE r.roles IS NULL OR r.roles = 'Student'
{%- endif %}
GROUP BY uic.user_id, uic.certificate_status, uic.enrollment_mode
ORDER BY user_id
