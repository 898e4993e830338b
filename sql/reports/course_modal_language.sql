-- course_modal_language: per learner, the transcript language used most (latest used among ties), with its downloads, events and the number of languages.
-- reads: language_multi_transcripts
SELECT
  ranked.username AS username,
  ranked.course_id AS course_id,
  ranked.resource AS resource,
  ranked.resource_event_data AS language,
  ranked.transcript_download AS language_download,
  ranked.n_events AS language_nevents,
  ranked.n_diff_lang AS language_ndiff
FROM (
  SELECT
    m.*,
    ROW_NUMBER() OVER (
      PARTITION BY m.username ORDER BY m.last_time_used_lang DESC, m.resource_event_data
    ) AS pick
  FROM {{ latest_dataset }}.language_multi_transcripts AS m
  WHERE m.rank_num = 1
) AS ranked
WHERE ranked.pick = 1
ORDER BY username
