-- show_answer_stats_by_course: one row for the course: the average and the median over learners of each show-answer percentage of show_answer_stats_by_user, over all learners and over the explored, certified and verified ones.
-- reads: show_answer_stats_by_user
-- Each average and median is over the learners whose percentage is not NULL (a learner with no
-- problem of the kind has none); the median is the lower one (PERCENTILE_DISC 0.5: for an even
-- number of learners the smaller middle value), as in simeon. With no learner the row is there
-- with NULLs.
-- Where this differs from simeon, and why: the *_explored, *_certified and *_verified columns
-- have values, because show_answer_stats_by_user fills in explored, certified and verified from
-- person_course (simeon's are NULL placeholders there, so these columns were always NULL).
WITH
medians AS (
  SELECT
    s.explored,
    s.certified,
    s.verified,
    s.pct_show_answer_problem_seen,
    s.pct_show_answer_not_attempted,
    s.pct_show_answer_attempted,
    s.pct_show_answer_perfect,
    s.pct_show_answer_partial,
    PERCENTILE_DISC(s.pct_show_answer_problem_seen, 0.5) OVER ()
      AS median_pct_show_answer_problem_seen,
    PERCENTILE_DISC(s.pct_show_answer_not_attempted, 0.5) OVER ()
      AS median_pct_show_answer_not_attempted,
    PERCENTILE_DISC(s.pct_show_answer_attempted, 0.5) OVER ()
      AS median_pct_show_answer_attempted,
    PERCENTILE_DISC(s.pct_show_answer_perfect, 0.5) OVER ()
      AS median_pct_show_answer_perfect,
    PERCENTILE_DISC(s.pct_show_answer_partial, 0.5) OVER ()
      AS median_pct_show_answer_partial,
    PERCENTILE_DISC(IF(s.explored, s.pct_show_answer_problem_seen, NULL), 0.5) OVER ()
      AS median_pct_show_answer_problem_seen_explored,
    PERCENTILE_DISC(IF(s.explored, s.pct_show_answer_not_attempted, NULL), 0.5) OVER ()
      AS median_pct_show_answer_not_attempted_explored,
    PERCENTILE_DISC(IF(s.explored, s.pct_show_answer_attempted, NULL), 0.5) OVER ()
      AS median_pct_show_answer_attempted_explored,
    PERCENTILE_DISC(IF(s.explored, s.pct_show_answer_perfect, NULL), 0.5) OVER ()
      AS median_pct_show_answer_perfect_explored,
    PERCENTILE_DISC(IF(s.explored, s.pct_show_answer_partial, NULL), 0.5) OVER ()
      AS median_pct_show_answer_partial_explored,
    PERCENTILE_DISC(IF(s.certified, s.pct_show_answer_problem_seen, NULL), 0.5) OVER ()
      AS median_pct_show_answer_problem_seen_certified,
    PERCENTILE_DISC(IF(s.certified, s.pct_show_answer_not_attempted, NULL), 0.5) OVER ()
      AS median_pct_show_answer_not_attempted_certified,
    PERCENTILE_DISC(IF(s.certified, s.pct_show_answer_attempted, NULL), 0.5) OVER ()
      AS median_pct_show_answer_attempted_certified,
    PERCENTILE_DISC(IF(s.certified, s.pct_show_answer_perfect, NULL), 0.5) OVER ()
      AS median_pct_show_answer_perfect_certified,
    PERCENTILE_DISC(IF(s.certified, s.pct_show_answer_partial, NULL), 0.5) OVER ()
      AS median_pct_show_answer_partial_certified,
    PERCENTILE_DISC(IF(s.verified, s.pct_show_answer_problem_seen, NULL), 0.5) OVER ()
      AS median_pct_show_answer_problem_seen_verified,
    PERCENTILE_DISC(IF(s.verified, s.pct_show_answer_not_attempted, NULL), 0.5) OVER ()
      AS median_pct_show_answer_not_attempted_verified,
    PERCENTILE_DISC(IF(s.verified, s.pct_show_answer_attempted, NULL), 0.5) OVER ()
      AS median_pct_show_answer_attempted_verified,
    PERCENTILE_DISC(IF(s.verified, s.pct_show_answer_perfect, NULL), 0.5) OVER ()
      AS median_pct_show_answer_perfect_verified,
    PERCENTILE_DISC(IF(s.verified, s.pct_show_answer_partial, NULL), 0.5) OVER ()
      AS median_pct_show_answer_partial_verified
  FROM {{ latest_dataset }}.show_answer_stats_by_user AS s
)
SELECT
  '{{ course_id }}' AS course_id,
  AVG(m.pct_show_answer_problem_seen) AS avg_pct_show_answer_problem_seen,
  AVG(m.pct_show_answer_not_attempted) AS avg_pct_show_answer_not_attempted,
  AVG(m.pct_show_answer_attempted) AS avg_pct_show_answer_attempted,
  AVG(m.pct_show_answer_perfect) AS avg_pct_show_answer_perfect,
  AVG(m.pct_show_answer_partial) AS avg_pct_show_answer_partial,
  AVG(IF(m.certified, m.pct_show_answer_problem_seen, NULL))
    AS avg_pct_show_answer_problem_seen_certified,
  AVG(IF(m.certified, m.pct_show_answer_not_attempted, NULL))
    AS avg_pct_show_answer_not_attempted_certified,
  AVG(IF(m.certified, m.pct_show_answer_attempted, NULL))
    AS avg_pct_show_answer_attempted_certified,
  AVG(IF(m.certified, m.pct_show_answer_perfect, NULL))
    AS avg_pct_show_answer_perfect_certified,
  AVG(IF(m.certified, m.pct_show_answer_partial, NULL))
    AS avg_pct_show_answer_partial_certified,
  AVG(IF(m.explored, m.pct_show_answer_problem_seen, NULL))
    AS avg_pct_show_answer_problem_seen_explored,
  AVG(IF(m.explored, m.pct_show_answer_not_attempted, NULL))
    AS avg_pct_show_answer_not_attempted_explored,
  AVG(IF(m.explored, m.pct_show_answer_attempted, NULL))
    AS avg_pct_show_answer_attempted_explored,
  AVG(IF(m.explored, m.pct_show_answer_perfect, NULL))
    AS avg_pct_show_answer_perfect_explored,
  AVG(IF(m.explored, m.pct_show_answer_partial, NULL))
    AS avg_pct_show_answer_partial_explored,
  AVG(IF(m.verified, m.pct_show_answer_problem_seen, NULL))
    AS avg_pct_show_answer_problem_seen_verified,
  AVG(IF(m.verified, m.pct_show_answer_not_attempted, NULL))
    AS avg_pct_show_answer_not_attempted_verified,
  AVG(IF(m.verified, m.pct_show_answer_attempted, NULL))
    AS avg_pct_show_answer_attempted_verified,
  AVG(IF(m.verified, m.pct_show_answer_perfect, NULL))
    AS avg_pct_show_answer_perfect_verified,
  AVG(IF(m.verified, m.pct_show_answer_partial, NULL))
    AS avg_pct_show_answer_partial_verified,
  MAX(m.median_pct_show_answer_problem_seen) AS median_pct_show_answer_problem_seen,
  MAX(m.median_pct_show_answer_not_attempted) AS median_pct_show_answer_not_attempted,
  MAX(m.median_pct_show_answer_attempted) AS median_pct_show_answer_attempted,
  MAX(m.median_pct_show_answer_perfect) AS median_pct_show_answer_perfect,
  MAX(m.median_pct_show_answer_partial) AS median_pct_show_answer_partial,
  MAX(m.median_pct_show_answer_problem_seen_explored)
    AS median_pct_show_answer_problem_seen_explored,
  MAX(m.median_pct_show_answer_not_attempted_explored)
    AS median_pct_show_answer_not_attempted_explored,
  MAX(m.median_pct_show_answer_attempted_explored)
    AS median_pct_show_answer_attempted_explored,
  MAX(m.median_pct_show_answer_perfect_explored)
    AS median_pct_show_answer_perfect_explored,
  MAX(m.median_pct_show_answer_partial_explored)
    AS median_pct_show_answer_partial_explored,
  MAX(m.median_pct_show_answer_problem_seen_certified)
    AS median_pct_show_answer_problem_seen_certified,
  MAX(m.median_pct_show_answer_not_attempted_certified)
    AS median_pct_show_answer_not_attempted_certified,
  MAX(m.median_pct_show_answer_attempted_certified)
    AS median_pct_show_answer_attempted_certified,
  MAX(m.median_pct_show_answer_perfect_certified)
    AS median_pct_show_answer_perfect_certified,
  MAX(m.median_pct_show_answer_partial_certified)
    AS median_pct_show_answer_partial_certified,
  MAX(m.median_pct_show_answer_problem_seen_verified)
    AS median_pct_show_answer_problem_seen_verified,
  MAX(m.median_pct_show_answer_not_attempted_verified)
    AS median_pct_show_answer_not_attempted_verified,
  MAX(m.median_pct_show_answer_attempted_verified)
    AS median_pct_show_answer_attempted_verified,
  MAX(m.median_pct_show_answer_perfect_verified)
    AS median_pct_show_answer_perfect_verified,
  MAX(m.median_pct_show_answer_partial_verified)
    AS median_pct_show_answer_partial_verified
FROM medians AS m
