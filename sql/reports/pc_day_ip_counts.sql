-- pc_day_ip_counts: per learner, IP address and day, the number of tracking log events.
-- reads: tracklog
SELECT
  l.username AS username,
  l.ip AS ip,
  DATE(l.time) AS date,
  COUNT(*) AS ipcount,
  '{{ course_id }}' AS course_id
FROM {{ tracklog }} AS l
WHERE l.username != ''
GROUP BY 1, 2, 3
ORDER BY date, username, ip
