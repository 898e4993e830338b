-- pc_forum: per forum author, the number of posts, votes received, pinned and endorsed posts, threads and comments.
-- reads: forum
SELECT
  f.author_id AS user_id,
  COUNT(*) AS nforum,
  SUM(f.votes.count) AS nvotes,
  COUNTIF(f.pinned) AS npinned,
  COUNTIF(f.endorsed) AS nendorsed,
  COUNTIF(f._type = 'CommentThread') AS nthread,
  COUNTIF(f._type = 'Comment') AS ncomment
FROM {{ latest_dataset }}.forum AS f
GROUP BY user_id
ORDER BY nthread DESC, user_id
