-- time_on_asset_totals: per module (block), how many learners spent time on it and the mean, median and total of their time, overall and for the certified.
-- reads: time_on_asset_daily, person_course
-- on request
-- The learners counted are those of person_course with a problem check (nproblem_check > 0, as
-- simeon) and a time_on_asset_daily row for the module; a learner's time on the module is the sum
-- of their days' time_umid5 (the short timeout) or time_umid30 (the long one), NULL when every
-- day's is. Certified: person_course.certified.
-- * n_unique_users/n_unique_certified: those learners, all and certified;
-- * mean_*/median_*/total_*: the mean, the median (interpolated between the two middle values for
--   an even count) and the sum of the learners' times on the module, leaving out the NULL ones;
--   cert_*: the same over the certified learners (NULL when there are none).
-- Differences from simeon:
-- * simeon's medians are of the learners' daily times (one value per learner and day) while its
--   means and totals are of their times on the module: here all three are of the latter;
-- * simeon keeps only the days with a short-timeout time (time_umid5 not NULL), so a day with
--   only gaps between the short and the long timeout adds nothing to the *_tmid30 columns nor to
--   n_unique_users: here every day counts (NULL times are left out of each column's own sum);
-- * n_unique_certified is a FLOAT, as simeon's schema has it.
WITH learners AS (
  SELECT
    p.username,
    LOGICAL_OR(IFNULL(p.certified, FALSE)) AS certified
  FROM {{ latest_dataset }}.person_course AS p
  WHERE p.nproblem_check > 0
    AND p.username IS NOT NULL
  GROUP BY p.username
),
times AS (
  -- each learner's time on each module
  SELECT
    a.module_id,
    a.username,
    u.certified,
    SUM(a.time_umid5) AS t5,
    SUM(a.time_umid30) AS t30
  FROM {{ latest_dataset }}.time_on_asset_daily AS a
  JOIN learners AS u
    ON u.username = a.username
  WHERE a.module_id IS NOT NULL
  GROUP BY a.module_id, a.username, u.certified
),
medians AS (
  SELECT
    t.*,
    PERCENTILE_CONT(t.t5, 0.5) OVER (PARTITION BY t.module_id) AS median5,
    PERCENTILE_CONT(t.t30, 0.5) OVER (PARTITION BY t.module_id) AS median30,
    PERCENTILE_CONT(IF(t.certified, t.t5, NULL), 0.5) OVER (PARTITION BY t.module_id)
      AS cert_median5,
    PERCENTILE_CONT(IF(t.certified, t.t30, NULL), 0.5) OVER (PARTITION BY t.module_id)
      AS cert_median30
  FROM times AS t
)
SELECT
  '{{ course_id }}' AS course_id,
  m.module_id AS module_id,
  COUNT(*) AS n_unique_users,
  CAST(COUNTIF(m.certified) AS FLOAT64) AS n_unique_certified,
  AVG(m.t5) AS mean_tmid5,
  AVG(IF(m.certified, m.t5, NULL)) AS cert_mean_tmid5,
  AVG(m.t30) AS mean_tmid30,
  AVG(IF(m.certified, m.t30, NULL)) AS cert_mean_tmid30,
  MAX(m.median5) AS median_tmid5,
  MAX(m.cert_median5) AS cert_median_tmid5,
  MAX(m.median30) AS median_tmid30,
  MAX(m.cert_median30) AS cert_median_tmid30,
  SUM(m.t5) AS total_tmid5,
  SUM(IF(m.certified, m.t5, NULL)) AS cert_total_tmid5,
  SUM(m.t30) AS total_tmid30,
  SUM(IF(m.certified, m.t30, NULL)) AS cert_total_tmid30
FROM medians AS m
GROUP BY module_id
ORDER BY module_id
