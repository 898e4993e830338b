"""Benchmark of the load step into the embedded warehouse (DuckDB), and of publishing to a GCS
server (fake-gcs-server on loopback): one course with DAYS daily tracking-log files of EVENTS
events each (rows shaped like the split's output, nested context and event_struct), plus its
studentmodule table. Prints rows per second for the first load, the time of a run with nothing
new, and the time to add one day.

    .venv/bin/python bench/load_throughput.py [--days 30] [--events 20000]
"""

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

from edxflow.core.jsonl import write_rows  # noqa: E402
from edxflow.warehouse.load import load_course  # noqa: E402
from edxflow.warehouse.settings import WarehouseSettings  # noqa: E402

BASE = "MITx__6_002x__2T2021"
COURSE = "course-v1:MITx+6.002x+2T2021"


def events(day: str, count: int, rng: random.Random):
    for number in range(count):
        user = rng.randrange(1, 20_000)
        when = f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{number % 1000000:06d}+00:00"
        block = f"block-v1:MITx+6.002x+2T2021+type@problem+block@{rng.randrange(300):x}"
        yield {
            "time": when,
            "username": f"learner{user}",
            "ip": f"10.0.{user % 250}.{number % 250}",
            "event_source": "server",
            "event_type": "problem_check",
            "name": "problem_check",
            "agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            "host": "courses.edx.org",
            "page": f"https://courses.edx.org/courses/{COURSE}/courseware/",
            "session": f"{user:032x}",
            "course_id": "MITx/6.002x/2T2021",
            "module_id": "MITx/6.002x/problem/x",
            "context": {
                "course_id": "MITx/6.002x/2T2021",
                "org_id": "MITx",
                "user_id": user,
                "path": "/event",
                "module": {"display_name": "Problem 1", "usage_key": block},
            },
            "event": json.dumps(
                {
                    "problem_id": block,
                    "attempts": rng.randrange(1, 4),
                    "success": "correct",
                    "grade": 1,
                    "max_grade": 1,
                    "answers": {f"{block}_2_1": "choice_2"},
                }
            ),
            "event_struct": {
                "problem_id": block,
                "attempts": rng.randrange(1, 4),
                "success": "correct",
                "grade": 1,
                "max_grade": 1,
            },
        }


def write_day(results: Path, day: str, count: int, rng: random.Random) -> str:
    name = f"TRACKING_LOGS/{BASE}/tracklog-{day}.edx-{day}.json.gz"
    write_rows(results / name, events(day, count, rng))
    return name


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-load", dir="/tmp"))
    rng = random.Random(5)
    try:
        days = [f"2021-{1 + n // 28:02d}-{1 + n % 28:02d}" for n in range(args.days + 1)]
        names = [write_day(root, day, args.events, rng) for day in days[:-1]]
        size = sum((root / name).stat().st_size for name in names)
        settings = WarehouseSettings("duckdb", path=str(root / "warehouse.duckdb"))
        rows = args.days * args.events
        print(f"course: {args.days} daily files, {rows:,} events, {size / 1e6:.0f} MB gzip")

        started = time.perf_counter()
        receipt = load_course(settings, "log", BASE, root, names, root / "r1.json")
        seconds = time.perf_counter() - started
        assert receipt["tables"]["tracklog"]["rows"] == rows
        print(
            f"DuckDB first load: {rows / seconds:,.0f} events/s ({seconds:.1f} s, {size / 1e6 / seconds:.0f} MB/s gzip)"
        )

        started = time.perf_counter()
        receipt = load_course(settings, "log", BASE, root, names, root / "r2.json")
        print(
            f"DuckDB rerun with nothing new: {time.perf_counter() - started:.2f} s "
            f"({receipt['unchanged']} days checked by MD5, none loaded)"
        )

        names.append(write_day(root, days[-1], args.events, rng))
        started = time.perf_counter()
        receipt = load_course(settings, "log", BASE, root, names, root / "r3.json")
        assert receipt["loaded"] == [f"tracklog${days[-1].replace('-', '')}"]
        print(
            f"DuckDB one new day: {time.perf_counter() - started:.2f} s for {args.events:,} events"
        )

        from edxflow.warehouse.publish import publish_files  # noqa: E402
        from tests.servers import FakeGcsServer  # noqa: E402

        with FakeGcsServer() as server:
            client = server.client()
            client.create_bucket("bench")
            started = time.perf_counter()
            published = publish_files(client, "bench", "log", BASE, root, names)
            seconds = time.perf_counter() - started
            total = sum(item["size"] for item in published["objects"])
            print(
                f"publish to fake-gcs-server (loopback): {len(names)} files, {total / 1e6:.0f} MB in "
                f"{seconds:.1f} s ({total / 1e6 / seconds:.0f} MB/s, MD5 verified)"
            )
            started = time.perf_counter()
            again = publish_files(client, "bench", "log", BASE, root, names)
            assert again["uploaded"] == 0
            print(f"publish again, nothing changed: {time.perf_counter() - started:.2f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
