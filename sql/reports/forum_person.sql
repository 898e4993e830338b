-- forum_person: one row per learner and forum post they wrote or acted on: the post (as forum_posts gives it), whether they wrote it, how many times they read, pinned, upvoted, unvoted and followed it, and the first and last of those times.
-- reads: forum_events, forum_posts
-- What counts for a post: writing it (wrote 1, at its first_time); a read of its thread page
-- (forum_action read or read_inline on the post's thread: every post of the thread is shown
-- there); a pin, upvote, unvote or thread follow of its thread (thread actions: the thread's
-- initial post); an upvote or unvote of a response or comment (comment_upvote, comment_unvote on
-- its slug_id: that post). Counts are 0 when there were none; first_time and last_time are the
-- earliest and latest of the learner's writing and actions on the post. Events without a
-- username, and posts or events on threads forum_posts does not have, are left out.
-- Where this differs from simeon, and why:
-- - a row is a learner and one post: simeon joins the posts a learner wrote to the posts they
--   acted on by username alone (edx2bigquery also by slug_id), which pairs every post written with
--   every post acted on.
-- - a thread action (pin, upvote, unvote, follow) counts for the thread's initial post only, and
--   votes on responses and comments count for that post; simeon counts a thread action for every
--   response and comment of the thread (and never for the thread's post, whose thread_id it left
--   NULL) and ignores votes on responses and comments.
-- - first_time and last_time are the earliest and latest of all of the learner's writing and
--   actions on the post; simeon's first_time is NULL for a post the learner did not write, and
--   compares the writing time with the last action only.
-- - read, pinned, upvoted, unvoted and followed are 0 rather than NULL when the learner wrote the
--   post and did nothing else to it.
WITH
posts AS (
  SELECT *
  FROM {{ latest_dataset }}.forum_posts
  WHERE slug_id IS NOT NULL
),
actions AS (
  -- reading a thread page: every post of the thread
  SELECT fe.username, p.slug_id, fe.time, 'read' AS action
  FROM {{ latest_dataset }}.forum_events AS fe
  JOIN posts AS p
    ON p.thread_id = fe.thread_id
  WHERE fe.forum_action IN ('read', 'read_inline')
  UNION ALL
  -- an action on a thread: the thread's initial post
  SELECT fe.username, p.slug_id, fe.time, fe.forum_action AS action
  FROM {{ latest_dataset }}.forum_events AS fe
  JOIN posts AS p
    ON p.slug_id = fe.thread_id AND p.slug_type = 'initial_post'
  WHERE fe.forum_action IN ('pin', 'upvote', 'unvote', 'follow_thread')
  UNION ALL
  -- a vote on a response or comment: that post
  SELECT
    fe.username,
    p.slug_id,
    fe.time,
    IF(fe.forum_action = 'comment_upvote', 'upvote', 'unvote') AS action
  FROM {{ latest_dataset }}.forum_events AS fe
  JOIN posts AS p
    ON p.slug_id = fe.thread_id AND p.slug_type != 'initial_post'
  WHERE fe.forum_action IN ('comment_upvote', 'comment_unvote')
  UNION ALL
  SELECT p.username, p.slug_id, p.first_time AS time, 'wrote' AS action
  FROM posts AS p
),
per_post AS (
  SELECT
    username,
    slug_id,
    COUNTIF(action = 'wrote') AS wrote,
    COUNTIF(action = 'read') AS n_read,
    COUNTIF(action = 'pin') AS pinned,
    COUNTIF(action = 'upvote') AS upvoted,
    COUNTIF(action = 'unvote') AS unvoted,
    COUNTIF(action = 'follow_thread') AS followed,
    MIN(time) AS first_time,
    MAX(time) AS last_time
  FROM actions
  WHERE username IS NOT NULL AND username != ''
  GROUP BY username, slug_id
)
SELECT
  a.username,
  '{{ course_id }}' AS course_id,
  p.slug_id,
  p.slug_type,
  p.thread_id,
  p.parent_id,
  p.original_poster,
  p.responded_to,
  p.title,
  a.wrote,
  a.n_read AS `read`,
  a.pinned,
  a.upvoted,
  a.unvoted,
  a.followed,
  a.first_time,
  a.last_time
FROM per_post AS a
JOIN posts AS p
  ON p.slug_id = a.slug_id
ORDER BY username, first_time, slug_id
