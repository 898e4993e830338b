-- forum_events: the course's forum events, one row each, with the action, thread, subject, target user and search.
-- reads: tracklog
-- forum_action names the action of a discussion URL (reply, upvote, read, search, enter_forum,
-- ...), of an instructor API forum call (its API path) or of an edx.forum.* server event
-- (created_thread, created_response, created_comment, searched); any other event keeps its
-- event_type, as simeon's.
-- Unlike simeon: thread_id of an edx.forum.* event is the thread it is about (the event's
-- discussion.id, else its id: the new thread's for thread events), where simeon gives NULL;
-- simeon reads a module_id of edx2bigquery's `org/num/forum/id` form first, which our logs'
-- module_id (a block key) never is, so that branch is left out. Events without a username are
-- left out (simeon keeps those with an empty one).
SELECT
  l.time AS time,
  l.username AS username,
  '{{ course_id }}' AS course_id,
  CASE
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/reply') THEN 'reply'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/upvote') THEN 'upvote'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/unvote') THEN 'unvote'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/update') THEN 'update'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/delete') THEN 'delete'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/close') THEN 'close'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/follow')
      THEN 'follow_thread'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/unfollow')
      THEN 'unfollow_thread'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/pin') THEN 'pin'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/unpin') THEN 'unpin'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/threads/[^/]+/downvote')
      THEN 'downvote'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/comments/[^/]+/reply')
      THEN 'comment_reply'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/comments/[^/]+/upvote')
      THEN 'comment_upvote'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/comments/[^/]+/update')
      THEN 'comment_update'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/comments/[^/]+/unvote')
      THEN 'comment_unvote'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/comments/[^/]+/delete')
      THEN 'comment_delete'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/forum/users/[^/]+/followed')
      THEN 'follow_user'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/forum/users/[^/]+$')
      THEN 'target_user'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/forum/[^/]+/threads/[^/]+')
      THEN 'read'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/forum/[^/]+/inline')
      THEN 'read_inline'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/forum/search') THEN 'search'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/discussion/forum/?$') THEN 'enter_forum'
    WHEN REGEXP_CONTAINS(l.event_type, r'/courses/.+/instructor/api/')
      THEN REGEXP_EXTRACT(l.event_type, r'/courses/.+/instructor/api/(.*)')
    WHEN l.event_type = 'edx.forum.thread.created' THEN 'created_thread'
    WHEN l.event_type = 'edx.forum.response.created' THEN 'created_response'
    WHEN l.event_type = 'edx.forum.comment.created' THEN 'created_comment'
    WHEN l.event_type = 'edx.forum.searched' THEN 'searched'
    ELSE l.event_type
  END AS forum_action,
  IF(
    STARTS_WITH(l.event_type, 'edx.forum.'),
    IFNULL(
      JSON_EXTRACT_SCALAR(l.event, '$.discussion.id'), JSON_EXTRACT_SCALAR(l.event, '$.id')
    ),
    COALESCE(
      REGEXP_EXTRACT(l.event_type, r'/courses/.+/discussion/forum/[^/]+/threads/([^/]+)'),
      REGEXP_EXTRACT(l.event_type, r'/courses/.+/discussion/threads/([^/]+)/'),
      REGEXP_EXTRACT(l.event_type, r'/courses/.+/discussion/comments/([^/]+)/')
    )
  ) AS thread_id,
  REGEXP_EXTRACT(l.event_type, r'/courses/.+/forum/([^/]+)/') AS subject,
  REGEXP_EXTRACT(l.event_type, r'/courses/.+/forum/users/([^/]+)') AS target_user_id,
  l.event_struct.query AS search_query,
  l.event_struct.GET AS event_GET
FROM {{ tracklog }} AS l
WHERE (
    STARTS_WITH(l.event_type, 'edx.forum.')
    OR l.event_type LIKE '%/discussion/forum%'
    OR l.event_type LIKE '%/discussion/threads%'
    OR l.event_type LIKE '%/discussion/comments%'
    OR l.event_type LIKE '%list-forum-%'
    OR l.event_type LIKE '%list_forum_%'
    OR l.event_type LIKE '%add-forum-%'
    OR l.event_type LIKE '%add_forum_%'
    OR l.event_type LIKE '%remove-forum-%'
    OR l.event_type LIKE '%remove_forum_%'
    OR l.event_type LIKE '%update_forum_%'
  )
  AND l.username IS NOT NULL
  AND l.username != ''
  AND l.event IS NOT NULL
ORDER BY time, username, forum_action
