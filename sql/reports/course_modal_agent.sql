-- course_modal_agent: per learner, the kind of user agent used most often, its event count, and whether they ever used a mobile or a desktop agent.
-- reads: pc_day_agent_counts
-- Ties between equally frequent kinds go to the first by name.
SELECT
  ranked.username AS username,
  ranked.agent_type AS modal_agent,
  ranked.agent_count AS agent_count,
  ranked.ever_mobile AS mobile,
  ranked.ever_desktop AS desktop
FROM (
  SELECT
    per_type.username,
    per_type.agent_type,
    per_type.agent_count,
    MAX(per_type.mobile) OVER (PARTITION BY per_type.username) AS ever_mobile,
    MAX(per_type.desktop) OVER (PARTITION BY per_type.username) AS ever_desktop,
    ROW_NUMBER() OVER (
      PARTITION BY per_type.username ORDER BY per_type.agent_count DESC, per_type.agent_type
    ) AS rank_num
  FROM (
    SELECT
      d.username,
      d.agent_type,
      SUM(d.agent_count) AS agent_count,
      MAX(d.mobile) AS mobile,
      MAX(d.desktop) AS desktop
    FROM {{ latest_dataset }}.pc_day_agent_counts AS d
    WHERE d.agent_type IS NOT NULL AND d.agent_type != ''
    GROUP BY d.username, d.agent_type
  ) AS per_type
) AS ranked
WHERE ranked.rank_num = 1
ORDER BY username
