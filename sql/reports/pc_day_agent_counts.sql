-- pc_day_agent_counts: per learner, day and kind of user agent (Mobile, Desktop, Unknown), the number of events.
-- reads: tracklog
-- The kind comes from words in the agent string, first match wins: iPhone, Android -> Mobile;
-- Windows, Macintosh -> Desktop; edx.mobile, iPad -> Mobile; Linux, BSD, CrOS -> Desktop;
-- Darwin -> Mobile; else Unknown. mobile/desktop flag the kind.
SELECT
  typed.username AS username,
  typed.agent_type AS agent_type,
  IF(typed.agent_type = 'Mobile', 1, 0) AS mobile,
  IF(typed.agent_type = 'Desktop', 1, 0) AS desktop,
  typed.date AS date,
  COUNT(*) AS agent_count,
  '{{ course_id }}' AS course_id
FROM (
  SELECT
    l.username,
    DATE(l.time) AS date,
    CASE
      WHEN UPPER(l.agent) LIKE '%IPHONE%' THEN 'Mobile'
      WHEN UPPER(l.agent) LIKE '%ANDROID%' THEN 'Mobile'
      WHEN UPPER(l.agent) LIKE '%WINDOWS%' THEN 'Desktop'
      WHEN UPPER(l.agent) LIKE '%MACINTOSH%' THEN 'Desktop'
      WHEN UPPER(l.agent) LIKE '%EDX.MOBILE%' THEN 'Mobile'
      WHEN UPPER(l.agent) LIKE '%IPAD%' THEN 'Mobile'
      WHEN UPPER(l.agent) LIKE '%LINUX%' OR UPPER(l.agent) LIKE '%BSD%' THEN 'Desktop'
      WHEN UPPER(l.agent) LIKE '%CROS%' THEN 'Desktop'
      WHEN UPPER(l.agent) LIKE '%DARWIN%' THEN 'Mobile'
      ELSE 'Unknown'
    END AS agent_type
  FROM {{ tracklog }} AS l
  WHERE l.username != '' AND l.agent != ''
) AS typed
GROUP BY 1, 2, 3, 4, 5
ORDER BY date, username, agent_type
