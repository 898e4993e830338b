-- course_summary: one row per course: its dates, its learners at each stage, the median grade, activity, forum posts, videos and problems.
-- reads: person_course, video_axis, course_axis
-- From person_course: learners (its rows), registered, viewed, explored, certified, completed,
-- verified (mode 'verified'), the first and last event, events (the sum of nevents), active
-- learners (nevents > 0), forum posts (the sum of nforum_posts) and the median of the grades
-- learners have (the mean of the two middle ones for an even count; NULL when none has one).
-- course_start is the course block's start in course_axis, course_end the latest due date of
-- its blocks (course_axis has no end date of its own); videos are video_axis's rows, problems the
-- problem blocks of course_axis visible to students.
WITH
  learners AS (
    SELECT
      COUNT(*) AS learners,
      COUNTIF(pc.registered) AS registered,
      COUNTIF(pc.viewed) AS viewed,
      COUNTIF(pc.explored) AS explored,
      COUNTIF(pc.certified) AS certified,
      COUNTIF(pc.completed) AS completed,
      COUNTIF(pc.mode = 'verified') AS verified,
      MIN(pc.first_event) AS first_event,
      MAX(pc.last_event) AS last_event,
      SUM(pc.nevents) AS events,
      COUNTIF(pc.nevents > 0) AS active_learners,
      SUM(pc.nforum_posts) AS forum_posts
    FROM {{ latest_dataset }}.person_course AS pc
  ),
  graded AS (
    SELECT
      pc.grade AS grade,
      ROW_NUMBER() OVER (ORDER BY pc.grade, pc.user_id) AS position,
      COUNT(*) OVER () AS total
    FROM {{ latest_dataset }}.person_course AS pc
    WHERE pc.grade IS NOT NULL
  ),
  median AS (
    SELECT AVG(g.grade) AS median_grade
    FROM graded AS g
    WHERE g.position IN (CAST(FLOOR((g.total + 1) / 2) AS INT64), CAST(FLOOR(g.total / 2) + 1 AS INT64))
  ),
  axis AS (
    SELECT
      MIN(IF(ca.category = 'course', ca.start, NULL)) AS course_start,
      MAX(ca.due) AS course_end,
      COUNTIF(ca.category = 'problem' AND NOT COALESCE(ca.visible_to_staff_only, FALSE)) AS problems
    FROM {{ latest_dataset }}.course_axis AS ca
  ),
  videos AS (
    SELECT COUNT(*) AS videos FROM {{ latest_dataset }}.video_axis
  )
SELECT
  '{{ course_id }}' AS course_id,
  axis.course_start AS course_start,
  axis.course_end AS course_end,
  learners.first_event AS first_event,
  learners.last_event AS last_event,
  learners.learners AS learners,
  learners.registered AS registered,
  learners.viewed AS viewed,
  learners.explored AS explored,
  learners.certified AS certified,
  learners.verified AS verified,
  learners.completed AS completed,
  median.median_grade AS median_grade,
  learners.events AS events,
  learners.active_learners AS active_learners,
  learners.forum_posts AS forum_posts,
  videos.videos AS videos,
  axis.problems AS problems
FROM learners
CROSS JOIN median
CROSS JOIN axis
CROSS JOIN videos
