"""Video durations from the YouTube Data API v3, cached in the organisation's `youtube` table so
that each id is asked for once.

`videos?part=contentDetails,snippet&id=a,b,...&key=K` answers up to 50 ids a request with each
found video's ISO 8601 `contentDetails.duration` (`PT1H2M3S`, `P1DT2H`, `PT0S` for a live
stream); an id it does not know is absent from the answer and is cached with no duration, so it is
not asked for again either. The key is read from the environment variable the configuration
names and goes only into the request's query string: never into a message, a receipt or a log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable

from edxflow.core.errors import UserError

log = logging.getLogger("edxflow.reports")

API_URL = "https://www.googleapis.com/youtube/v3"
BATCH = 50
ATTEMPTS = 4
_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class YouTubeError(UserError):
    """The YouTube API could not be asked (a missing key, a refusal after the retries)."""


def parse_duration(text: str) -> float | None:
    """Seconds of an ISO 8601 duration as YouTube gives it (days, hours, minutes, seconds), exactly;
    None for text that is not one."""
    match = _DURATION.match(text or "")
    if match is None or text in ("P", "PT"):
        return None
    parts = {key: float(value) if value else 0.0 for key, value in match.groupdict().items()}
    return parts["days"] * 86400 + parts["hours"] * 3600 + parts["minutes"] * 60 + parts["seconds"]


def api_key(variable: str) -> str:
    key = os.environ.get(variable, "")
    if not key:
        raise YouTubeError(
            f"reports.youtube.api_key_env names {variable}, which is not set: export your YouTube "
            "Data API key in it, or remove reports.youtube to take durations from course_axis"
        )
    return key


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read().decode("utf-8"))


def _reason(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read().decode("utf-8"))
        first = body["error"]["errors"][0]
        return f"{first.get('reason', '')}: {body['error'].get('message', '')}".strip(": ")
    except Exception:
        return error.reason or "no reason given"


def fetch_durations(
    ids: Iterable[str],
    key: str,
    api_url: str = API_URL,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, float | None]:
    """id -> seconds (None: not found, or a duration that is not ISO 8601, logged with the id),
    asking in batches of BATCH. A refusal (quota, server error) is asked again up to ATTEMPTS
    times, then raises a YouTubeError naming the ids and the reason."""
    wanted = sorted({i for i in ids if i})
    bad = [i for i in wanted if not _ID.match(i)]
    found: dict[str, float | None] = dict.fromkeys(bad)
    wanted = [i for i in wanted if i not in found]
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        query = urllib.parse.urlencode(
            {"part": "contentDetails,snippet", "id": ",".join(batch), "key": key}
        )
        answer = None
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = _get(f"{api_url.rstrip('/')}/videos?{query}")
                break
            except urllib.error.HTTPError as error:
                reason = _reason(error)
                if attempt == ATTEMPTS or error.code not in (403, 429, 500, 503):
                    raise YouTubeError(
                        f"the YouTube API refused the durations of {len(batch)} video(s) "
                        f"({', '.join(batch[:3])}{', ...' if len(batch) > 3 else ''}): HTTP "
                        f"{error.code} {reason}; check the key's quota and run again"
                    ) from None
                log.warning("YouTube API: HTTP %d %s; asking again", error.code, reason)
            except (urllib.error.URLError, OSError, ValueError) as error:
                if attempt == ATTEMPTS:
                    raise YouTubeError(
                        f"the YouTube API at {api_url} could not be asked: {error}"
                    ) from None
            sleep(min(2.0**attempt, 30.0))
        found.update(dict.fromkeys(batch))
        for item in (answer or {}).get("items", []):
            duration = (item.get("contentDetails") or {}).get("duration", "")
            seconds = parse_duration(duration)
            if seconds is None:
                log.warning(
                    "YouTube video %s: duration %r is not ISO 8601", item.get("id"), duration
                )
            if item.get("id") in found:
                found[item["id"]] = seconds
    return found


def cached_durations(warehouse, dataset: str, table: str) -> dict[str, float | None]:
    from edxflow.reports.build import table_ref

    if table not in warehouse.list_tables(dataset):
        return {}
    rows = warehouse.select(f"SELECT id, duration FROM {table_ref(warehouse, dataset, table)}")
    return {row["id"]: row["duration"] for row in rows}


def refresh_cache(
    warehouse,
    dataset: str,
    ids: Iterable[str],
    key_env: str,
    api_url: str = API_URL,
    table: str = "youtube",
) -> dict[str, float | None]:
    """The durations of `ids`, from the cache table `dataset.table` (id, duration in seconds,
    fetched_at), asking the API only for the ids it lacks and adding them to it (the table is
    replaced at once with its old rows and the new ones)."""
    from edxflow.reports.build import table_ref
    from edxflow.reports.templates import escape_string
    from edxflow.reports.transpile import to_duckdb

    ids = sorted({i for i in ids if i and _ID.match(i)})
    cached = cached_durations(warehouse, dataset, table)
    missing = [i for i in ids if i not in cached]
    if missing:
        fetched = fetch_durations(missing, api_key(key_env), api_url)
        rows = [
            f"SELECT '{escape_string(i)}' AS id, "
            f"CAST({'NULL' if s is None else repr(float(s))} AS FLOAT64) AS duration, "
            "CURRENT_TIMESTAMP() AS fetched_at"
            for i, s in sorted(fetched.items())
        ]
        if cached:
            rows.insert(
                0, f"SELECT id, duration, fetched_at FROM {table_ref(warehouse, dataset, table)}"
            )
        sql = "\nUNION ALL\n".join(rows)
        if warehouse.kind == "duckdb":
            sql = to_duckdb(sql, [])
        warehouse.ensure_dataset(dataset, "the organisation's report tables (edxflow)")
        warehouse.run_query(sql, dataset, table, DESCRIPTIONS)
        warehouse.commit()
        cached.update(fetched)
        log.info("YouTube: %d duration(s) fetched into %s.%s", len(fetched), dataset, table)
    return {i: cached.get(i) for i in ids}


DESCRIPTIONS = {
    "id": "The YouTube video id.",
    "duration": "The video's length in seconds (YouTube Data API v3 contentDetails.duration); "
    "NULL for an id YouTube does not know or a duration that is not ISO 8601.",
    "fetched_at": "When the duration was asked for (each id is asked for once).",
}
