-- video_axis: one row per video visible to students, with its chapter, ids and length in seconds.
-- reads: course_axis
-- The length is the YouTube table's duration when a youtube_table is given, else (and for videos
-- it does not list) the duration from the video's OLX.
SELECT
  chapters.index AS index_chapter,
  videos.index AS index_video,
  videos.category AS category,
  videos.course_id AS course_id,
  videos.name AS name,
  videos.video_id AS video_id,
  videos.youtube_id AS youtube_id,
  chapters.name AS chapter_name,
  COALESCE(videos.video_length, videos.olx_duration) AS video_length
FROM (
  SELECT
    a.index,
    a.category,
    a.course_id,
    a.name,
    a.chapter_mid,
    -- the last path segment of the module_id, dots replaced by underscores
    REGEXP_EXTRACT(REPLACE(a.module_id, '.', '_'), r'[^/]*$') AS video_id,
    -- ytid is speed:id; keep the id
    REGEXP_EXTRACT(a.data.ytid, r'[^:]*$') AS youtube_id,
    a.data.duration AS olx_duration,
{%- if youtube_table %}
    yt.duration AS video_length
  FROM {{ latest_dataset }}.course_axis AS a
  LEFT JOIN {{ youtube_table }} AS yt
    ON yt.id = REGEXP_EXTRACT(a.data.ytid, r'[^:]*$')
{%- else %}
    a.data.duration AS video_length
  FROM {{ latest_dataset }}.course_axis AS a
{%- endif %}
  WHERE a.category = 'video'
    AND NOT COALESCE(a.visible_to_staff_only, FALSE)
) AS videos
LEFT JOIN (
  SELECT c.module_id, c.name, c.index
  FROM {{ latest_dataset }}.course_axis AS c
) AS chapters
  ON chapters.module_id = videos.chapter_mid
ORDER BY index_video
