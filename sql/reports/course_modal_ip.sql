-- course_modal_ip: per learner, the IP address seen most often in the course and the number of different IPs.
-- reads: pc_day_ip_counts
-- Ties between equally frequent IPs go to the smallest address (simeon picks one arbitrarily).
SELECT
  ranked.username AS username,
  ranked.ip AS modal_ip,
  ranked.ip_count AS ip_count,
  ranked.n_different_ip AS n_different_ip
FROM (
  SELECT
    per_ip.username,
    per_ip.ip,
    per_ip.ip_count,
    COUNT(*) OVER (PARTITION BY per_ip.username) AS n_different_ip,
    ROW_NUMBER() OVER (
      PARTITION BY per_ip.username ORDER BY per_ip.ip_count DESC, per_ip.ip
    ) AS rank_num
  FROM (
    SELECT d.username, d.ip, SUM(d.ipcount) AS ip_count
    FROM {{ latest_dataset }}.pc_day_ip_counts AS d
    WHERE d.ip IS NOT NULL AND d.ip != ''
    GROUP BY d.username, d.ip
  ) AS per_ip
) AS ranked
WHERE ranked.rank_num = 1
ORDER BY username
