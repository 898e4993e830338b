"""Benchmark of the tracking-log split on one very long line: seconds for a day holding one event
of 12.5, 25 and 50 MB (and one unparseable line of that size, which goes to the rejects file),
between ordinary lines. Linear means the seconds double with the size.

    .venv/bin/python bench/long_line.py [--sizes 12.5 25 50]
"""

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from isal import igzip  # noqa: E402

from edxflow.logs.split import split_tracking_log  # noqa: E402

DAY = "2021-03-04"


def event(number: int, padding: str = "") -> bytes:
    return json.dumps(
        {
            "username": f"u{number}",
            "time": f"{DAY}T10:00:00+00:00",
            "event_type": "problem_check",
            "context": {"course_id": "course-v1:MITx+1x+T1"},
            "event": {"answer": padding},
        }
    ).encode()


def make_day(path: Path, megabytes: float, broken: bool) -> None:
    # random text: compressed input expands little, so the line arrives in thousands of pieces
    long_line = event(1, base64.b64encode(os.urandom(int(megabytes * 1e6 * 3 / 4))).decode())
    if broken:
        long_line = long_line[:-1]  # no closing brace: rejected with its raw text
    path.write_bytes(igzip.compress(b"\n".join([event(0), long_line, event(2)]) + b"\n", 1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=float, nargs="+", default=[12.5, 25, 50], help="long line sizes, MB"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-long-line", dir="/tmp") as root:
        for broken in (False, True):
            for megabytes in args.sizes:
                day = Path(root) / f"day-{megabytes}-{broken}.log.gz"
                make_day(day, megabytes, broken)
                started = time.perf_counter()
                receipt = split_tracking_log(day, Path(root) / "out", "edx", DAY)
                seconds = time.perf_counter() - started
                assert (
                    receipt["rejected"] == int(broken)
                    and sum(receipt["by_course"].values()) == 3 - broken
                )
                kind = "rejected line" if broken else "event       "
                print(f"{kind} of {megabytes:5.1f} MB: {seconds:6.2f} s")


if __name__ == "__main__":
    main()
