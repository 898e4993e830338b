"""The forum dump (`prod.mongo`): one MongoDB extended-JSON document per thread or comment."""

from __future__ import annotations

import datetime as dt
import json

from edxflow.demo.model import Course, ForumPost, World


def mongo_date(when: dt.datetime) -> dict:
    return {"$date": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"}


def forum_document(world: World, post: ForumPost) -> dict:
    replies = [p for p in world.forum_posts if p.thread is (post.thread or post)]
    last = max([post.created] + [p.created for p in replies]) if post.is_thread else post.created
    document = {
        "_id": {"$oid": post.oid},
        "_type": "CommentThread" if post.is_thread else "Comment",
        "abuse_flaggers": [],
        "anonymous": False,
        "anonymous_to_peers": False,
        "at_position_list": [],
        "author_id": str(post.author.id),
        "author_username": post.author.username,
        "body": post.body,
        "course_id": post.course.course_id,
        "created_at": mongo_date(post.created),
        "historical_abuse_flaggers": [],
        "updated_at": mongo_date(post.created),
        "visible": True,
        "votes": {
            "count": len(post.votes_up),
            "down": [],
            "down_count": 0,
            "point": len(post.votes_up),
            "up": [str(user_id) for user_id in post.votes_up],
            "up_count": len(post.votes_up),
        },
    }
    if post.is_thread:
        document.update(
            {
                "closed": False,
                "comment_count": len(replies),
                "commentable_id": post.commentable_id,
                "context": "course",
                "last_activity_at": mongo_date(last),
                "pinned": False,
                "tags_array": [],
                "title": post.title,
                "thread_type": post.thread_type,
            }
        )
    else:
        document.update(
            {
                "comment_thread_id": {"$oid": post.thread.oid},
                "depth": 1 if post.parent else 0,
                "endorsed": False,
                "parent_ids": [{"$oid": post.parent.oid}] if post.parent else [],
                "sk": f"{post.parent.oid}-{post.oid}" if post.parent else post.oid,
            }
        )
        if post.parent:
            document["parent_id"] = {"$oid": post.parent.oid}
    return document


def forum_bytes(world: World, course: Course) -> bytes:
    posts = sorted((p for p in world.forum_posts if p.course is course), key=lambda p: p.oid)
    return "".join(
        json.dumps(forum_document(world, p), ensure_ascii=False) + "\n" for p in posts
    ).encode("utf-8")
