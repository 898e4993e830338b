-- forum_posts: one row per forum post (a thread's initial post, a response to it, or a comment on a response): its author, kind, thread, the response it comments on, the thread's author and title, when it was written and its first 100 characters.
-- reads: forum
-- slug_type: initial_post (a CommentThread), response_post (a Comment on the thread itself) or
-- comment (a Comment on a response, i.e. with a parent_id). original_poster and title are the
-- thread's (its author and title) on every post of the thread, NULL when the thread is not in the
-- forum table; responded_to, on a comment, is the author of the response it comments on.
-- Where this differs from simeon, and why:
-- - username is the author of the post itself; simeon's query gives the thread's author as the
--   username of every response and comment (it selects the thread's username there), which
--   attributes all writing in a thread to whoever started it.
-- - each post is one row; simeon lists every response twice (two branches of its UNION ALL pick
--   responses, the second with responded_to set to the response's own author).
-- - thread_id of an initial post is its own slug_id (the thread it starts), as the column
--   description says; simeon gives NULL there (the thread's comment_thread_id), so forum_person
--   could never join an event on a thread to the thread's own post.
-- Posts are kept as simeon keeps them: with an id (mongoid), a CommentThread without
-- comment_thread_id and parent_id, or a Comment with either.
WITH
posts AS (
  SELECT
    f.mongoid AS slug_id,
    f.author_username AS username,
    CASE
      WHEN f._type = 'CommentThread' THEN 'initial_post'
      WHEN f.parent_id IS NOT NULL THEN 'comment'
      ELSE 'response_post'
    END AS slug_type,
    IF(f._type = 'CommentThread', f.mongoid, f.comment_thread_id) AS thread_id,
    f.parent_id,
    f.title,
    f.created_at AS first_time,
    SUBSTR(f.body, 1, 100) AS body_preview
  FROM {{ latest_dataset }}.forum AS f
  WHERE f.mongoid IS NOT NULL
    AND (
      (f._type = 'CommentThread' AND f.comment_thread_id IS NULL AND f.parent_id IS NULL)
      OR (f._type = 'Comment' AND (f.comment_thread_id IS NOT NULL OR f.parent_id IS NOT NULL))
    )
)
SELECT
  p.username,
  '{{ course_id }}' AS course_id,
  p.slug_id,
  p.slug_type,
  p.thread_id,
  p.parent_id,
  thread.username AS original_poster,
  IF(p.slug_type = 'comment', response.username, NULL) AS responded_to,
  thread.title AS title,
  p.first_time,
  p.body_preview
FROM posts AS p
LEFT JOIN posts AS thread
  ON thread.slug_id = p.thread_id AND thread.slug_type = 'initial_post'
LEFT JOIN posts AS response
  ON response.slug_id = p.parent_id
ORDER BY first_time, slug_id
