"""YouTube durations: ISO 8601 parsed exactly, the API asked in batches of 50 through a local
server speaking its response shape (a missing id, a malformed duration, a quota error asked again
and then reported), the cache table asked once per id, and video_axis taking its lengths from it."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from edxflow.core.jsonl import shipped_schema
from edxflow.reports.build import BUILTIN, build_course, youtube_settings
from edxflow.reports.graph import load_templates
from edxflow.reports.youtube import YouTubeError, fetch_durations, parse_duration
from edxflow.warehouse.load import warehouse_session
from edxflow.warehouse.settings import WarehouseSettings
from tests.helpers import report_warehouse

KEY = "AIza-test-key-not-a-secret"
COURSE = "YtX/V1/2030"
LATEST = "YtX__V1__2030_latest"
DURATIONS = {"AAAAAAAAAA1": "PT1H2M3S", "BBBBBBBBBB2": "PT45.5S", "BADDURATION": "1:00"}


class FakeYouTube:
    """The API's `videos` resource on a free port: items for the ids it knows, a 403
    quotaExceeded for the first `refusals` requests; every request's ids are recorded."""

    def __init__(self, refusals: int = 0):
        self.refusals = refusals
        self.asked: list[list[str]] = []
        self.keys: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                ids = query["id"][0].split(",")
                server.keys.add(query["key"][0])
                assert query["part"] == ["contentDetails,snippet"]
                if server.refusals > 0:
                    server.refusals -= 1
                    body = {
                        "error": {
                            "code": 403,
                            "message": "The request cannot be completed",
                            "errors": [{"reason": "quotaExceeded"}],
                        }
                    }
                    self.send_response(403)
                else:
                    server.asked.append(ids)
                    body = {
                        "kind": "youtube#videoListResponse",
                        "items": [
                            {
                                "id": i,
                                "snippet": {"title": f"video {i}"},
                                "contentDetails": {"duration": DURATIONS[i]},
                            }
                            for i in ids
                            if i in DURATIONS
                        ],
                    }
                    self.send_response(200)
                data = json.dumps(body).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/youtube/v3"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def youtube():
    server = FakeYouTube()
    yield server
    server.close()


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("PT1H2M3S", 3723.0),
        ("PT45S", 45.0),
        ("PT10M", 600.0),
        ("P1DT2H", 93600.0),
        ("PT0S", 0.0),
        ("P0D", 0.0),
        ("PT1.25S", 1.25),
        ("PT", None),
        ("P", None),
        ("1:00", None),
        ("PT1H2X", None),
        ("", None),
    ],
)
def test_iso_8601_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_batches_of_fifty_a_missing_id_and_a_malformed_duration(youtube, caplog):
    ids = [f"id{n:08d}" for n in range(120)] + list(DURATIONS)
    found = fetch_durations(ids, KEY, youtube.url, sleep=lambda s: None)
    assert [len(batch) for batch in youtube.asked] == [50, 50, 23]
    assert found["AAAAAAAAAA1"] == 3723.0 and found["BBBBBBBBBB2"] == 45.5
    assert found["BADDURATION"] is None and "BADDURATION" in caplog.text
    assert found["id00000007"] is None and len(found) == 123
    assert youtube.keys == {KEY} and KEY not in caplog.text


def test_a_quota_error_is_asked_again_then_reported_without_the_key(caplog):
    server = FakeYouTube(refusals=2)
    try:
        found = fetch_durations(["AAAAAAAAAA1"], KEY, server.url, sleep=lambda s: None)
        assert found == {"AAAAAAAAAA1": 3723.0} and "quotaExceeded" in caplog.text
        server.refusals = 10
        with pytest.raises(YouTubeError, match="HTTP 403 quotaExceeded") as error:
            fetch_durations(["BBBBBBBBBB2"], KEY, server.url, sleep=lambda s: None)
        assert "BBBBBBBBBB2" in str(error.value) and KEY not in str(error.value)
        assert KEY not in caplog.text
    finally:
        server.close()


def axis_rows():
    def video(index, ytid, duration):
        return {
            "course_id": COURSE,
            "index": index,
            "category": "video",
            "url_name": f"v{index}",
            "module_id": f"{COURSE}/video/v{index}",
            "chapter_mid": f"{COURSE}/chapter/c1",
            "data": {"ytid": ytid, "duration": duration},
        }

    return [
        {
            "course_id": COURSE,
            "index": 1,
            "category": "chapter",
            "url_name": "c1",
            "module_id": f"{COURSE}/chapter/c1",
            "name": "One",
        },
        video(2, "1.0:AAAAAAAAAA1", 100.0),
        video(3, "1.0:NOTONYOUTUBE", 60.0),
    ]


def build(tmp_path, youtube_config):
    templates = load_templates(BUILTIN)
    with warehouse_session(
        WarehouseSettings("duckdb", path=str(tmp_path / "warehouse.duckdb")), tmp_path
    ) as warehouse:
        receipt = build_course(
            warehouse,
            course_id=COURSE,
            templates={"video_axis": templates["video_axis"]},
            wanted=["video_axis"],
            receipt_path=tmp_path / "receipt.json",
            youtube=youtube_settings(youtube_config, "ytx"),
        )
        lengths = warehouse.select(
            f'SELECT youtube_id, video_length FROM "{LATEST}".video_axis ORDER BY youtube_id'
        )
        cache = warehouse.select('SELECT id, duration FROM "ytx_reports".youtube ORDER BY id')
    return receipt, lengths, cache


def test_video_axis_takes_the_cached_durations_and_asks_once_per_id(youtube, tmp_path, monkeypatch):
    monkeypatch.setenv("YT_KEY", KEY)
    report_warehouse(
        tmp_path, inputs={(LATEST, "course_axis"): (shipped_schema("course_axis"), axis_rows())}
    ).close()
    config = {"api_key_env": "YT_KEY", "api_url": youtube.url}
    first, lengths, cache = build(tmp_path, config)
    assert first["rebuilt"] == ["video_axis"]
    # from YouTube where it knows the video, from the OLX where it does not
    assert lengths == [
        {"youtube_id": "AAAAAAAAAA1", "video_length": 3723.0},
        {"youtube_id": "NOTONYOUTUBE", "video_length": 60.0},
    ]
    assert cache == [
        {"id": "AAAAAAAAAA1", "duration": 3723.0},
        {"id": "NOTONYOUTUBE", "duration": None},
    ]
    assert youtube.asked == [["AAAAAAAAAA1", "NOTONYOUTUBE"]]
    assert "youtube" in first["tables"]["video_axis"]["inputs"]

    # course_axis was not loaded by edxflow (no load state), so video_axis is built again; the
    # durations come from the cache, and YouTube is not asked again
    again, lengths_again, _ = build(tmp_path, config)
    assert again["tables"]["video_axis"]["reason"] == "no load state for course_axis"
    assert lengths_again == lengths and len(youtube.asked) == 1
    receipt_text = (tmp_path / "receipt.json").read_text()
    assert KEY not in receipt_text


def test_an_unset_key_variable_is_named(youtube, tmp_path, monkeypatch):
    monkeypatch.delenv("YT_MISSING", raising=False)
    report_warehouse(
        tmp_path, inputs={(LATEST, "course_axis"): (shipped_schema("course_axis"), axis_rows())}
    ).close()
    with pytest.raises(YouTubeError, match="YT_MISSING, which is not set"):
        build(tmp_path, {"api_key_env": "YT_MISSING", "api_url": youtube.url})
    assert youtube.asked == []
