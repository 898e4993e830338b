-- language_multi_transcripts: per learner and transcript language, the downloads, events and last use, ranked by events.
-- reads: pc_day_trlang
SELECT
  per_lang.username AS username,
  per_lang.course_id AS course_id,
  per_lang.resource AS resource,
  per_lang.resource_event_data AS resource_event_data,
  per_lang.transcript_download AS transcript_download,
  per_lang.n_events AS n_events,
  per_lang.last_time_used_lang AS last_time_used_lang,
  COUNT(per_lang.resource_event_data) OVER (PARTITION BY per_lang.username) AS n_diff_lang,
  RANK() OVER (PARTITION BY per_lang.username ORDER BY per_lang.n_events DESC) AS rank_num
FROM (
  SELECT
    d.username,
    d.course_id,
    d.resource,
    d.resource_event_data,
    SUM(IF(d.resource_event_type = 'transcript_download', d.langcount, 0)) AS transcript_download,
    SUM(d.langcount) AS n_events,
    MAX(d.last_time) AS last_time_used_lang
  FROM {{ latest_dataset }}.pc_day_trlang AS d
  GROUP BY d.username, d.course_id, d.resource, d.resource_event_data
) AS per_lang
ORDER BY username, rank_num, resource_event_data
