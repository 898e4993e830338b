"""Times of the simulated world: UTC days, the snapshot time, random moments, ISO strings."""

from __future__ import annotations

import datetime as dt
import random

UTC = dt.timezone.utc


def snapshot_time(end_date: dt.date) -> dt.datetime:
    """When the weekly SQL snapshot is taken: the end of the last log day."""
    return day_start(end_date) + dt.timedelta(hours=23, minutes=59)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def random_time(rng: random.Random, begin: dt.datetime, end: dt.datetime) -> dt.datetime:
    span = max((end - begin).total_seconds(), 1.0)
    return begin + dt.timedelta(seconds=rng.uniform(0, span), microseconds=rng.randint(0, 999_999))


def iso_z(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
