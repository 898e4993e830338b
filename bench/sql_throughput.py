"""Benchmark of one course of a weekly SQL bundle: a synthetic bundle whose course holds a
`courseware_studentmodule` of ROWS rows (problem states with answers, video and chapter positions)
is decrypted from the zip, parsed and written (studentmodule and problem_analysis), pinned to one
core, several times; prints rows per second of each run and the median. The compiled fast path
(native/) is timed unless --python is given.

    .venv/bin/python bench/sql_throughput.py [--rows 1000000] [--repeat 3] [--python]
"""

import argparse
import io
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

from tests.helpers import Keys, kill_agent  # noqa: E402

COURSE = "course-v1:MITx+6.002x+2T2021"
PREFIX = "MITx-6.002x-2T2021"
COLUMNS = "id\tmodule_type\tmodule_id\tstudent_id\tstate\tgrade\tcreated\tmodified\tmax_grade\tdone\tcourse_id"


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def studentmodule_dump(rows: int, seed: int = 3, all_problems: bool = False) -> bytes:
    rng = random.Random(seed)
    lines = [COLUMNS]
    for number in range(1, rows + 1):
        kind = 0 if all_problems else number % 4
        block = f"{rng.randrange(400):x}{number % 13}"
        student = rng.randrange(1, 60_000)
        when = f"2021-0{rng.randrange(1, 10)}-{rng.randrange(10, 28)} {rng.randrange(24):02d}:{rng.randrange(60):02d}:17"
        if kind == 0:
            answer = f"{block}_2_1"
            state = json.dumps(
                {
                    "correct_map": {
                        answer: {
                            "correctness": rng.choice(["correct", "incorrect"]),
                            "npoints": None,
                            "msg": "",
                            "hint": "",
                            "hintmode": None,
                            "queuestate": None,
                        }
                    },
                    "student_answers": {answer: f"choice_{rng.randrange(4)}"},
                    "attempts": rng.randrange(1, 4),
                    "done": True,
                    "seed": 1,
                    "input_state": {answer: {}},
                    "last_submission_time": when,
                }
            )
            module_type, grade, max_grade = "problem", str(rng.randrange(2)), "1"
        elif kind in (1, 2):
            state = json.dumps(
                {"saved_video_position": "00:01:3" + str(rng.randrange(10)), "speed": 1.5}
            )
            module_type, grade, max_grade = "video", "NULL", "NULL"
        else:
            state = json.dumps({"position": rng.randrange(1, 9)})
            module_type, grade, max_grade = "chapter", "NULL", "NULL"
        fields = [
            str(number),
            module_type,
            f"block-v1:MITx+6.002x+2T2021+type@{module_type}+block@{block}",
            str(student),
            escape(state),
            grade,
            when,
            when,
            max_grade,
            "na",
            COURSE,
        ]
        lines.append("\t".join(fields))
    return ("\n".join(lines) + "\n").encode()


def make_bundle(path: Path, keys: Keys, rows: int, all_problems: bool) -> int:
    dump = studentmodule_dump(rows, all_problems=all_problems)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(
            f"mitx-2021-06-06/{PREFIX}-courseware_studentmodule-prod-analytics.sql.gpg",
            keys.encrypt(dump),
        )
        archive.writestr(
            f"mitx-2021-06-06/{PREFIX}-auth_user-prod-analytics.sql.gpg",
            keys.encrypt(b"id\tusername\temail\n1\talice\ta@example.org\n"),
        )
    path.write_bytes(buffer.getvalue())
    return len(dump)


SPLIT = """
import json, sys
sys.path.insert(0, sys.argv[1] + "/scripts")
from edxflow.sql.bundle import index_bundle
from edxflow.sql.derived import studentmodule
from edxflow.sql.course import split_course
bundle, outdir, home, path = sys.argv[2:6]
if path == "python":
    studentmodule.studentmodule_lines = None
elif studentmodule.studentmodule_lines is None:
    sys.exit("the compiled fast path is not installed: pip install ./native (or pass --python)")
entry = index_bundle(bundle, ["edx"])["courses"][0]
receipt = split_course(bundle, entry, outdir, home, None)
print(json.dumps(receipt))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--unpinned",
        action="store_true",
        help="let gpg run on another core (the parsing is single-threaded either way)",
    )
    parser.add_argument(
        "--python",
        action="store_true",
        help="time the pure-Python path (what runs where native/ is not built)",
    )
    parser.add_argument(
        "--all-problems",
        action="store_true",
        help="every row a checked problem (the default mix: a quarter problems, half videos, "
        "a quarter chapters)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="course jobs to time on the same bundle (the median is the figure; this machine's "
        "speed varies by about 10%% from run to run)",
    )
    args = parser.parse_args()
    pin = [] if args.unpinned else ["taskset", "-c", "0"]
    root = Path(tempfile.mkdtemp(prefix="bench-sql", dir="/tmp"))
    keys = Keys(root / "gpg")
    try:
        bundle = root / "mitx-2021-06-06.zip"
        plain_bytes = make_bundle(bundle, keys, args.rows, args.all_problems)
        print(
            f"bundle: {args.rows:,} courseware_studentmodule rows, {plain_bytes / 1e6:.0f} MB plaintext, "
            f"{bundle.stat().st_size / 1e6:.0f} MB encrypted zip"
        )
        path = "python" if args.python else "compiled"
        where = ("gpg on another core" if args.unpinned else "1 core") + f", {path} path"
        rates = []
        for run in range(1, args.repeat + 1):
            outdir = root / "SQL" / "MITx__6_002x__2T2021" / "2021-06-06"
            shutil.rmtree(outdir, ignore_errors=True)
            started = time.perf_counter()
            done = subprocess.run(
                [
                    *pin,
                    sys.executable,
                    "-c",
                    SPLIT,
                    str(REPO),
                    str(bundle),
                    str(outdir),
                    str(keys.home),
                    path,
                ],
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            assert done.returncode == 0, done.stderr
            receipt = json.loads(done.stdout)
            tables = receipt["tables"]
            assert tables["studentmodule"]["rows"] == args.rows, tables
            inside = receipt["seconds"]
            rates.append(args.rows / inside)
            print(
                f"run {run}: decrypt + parse + write ({where}): {args.rows / inside:,.0f} studentmodule rows/s "
                f"({inside:.1f} s for the whole course job, studentmodule {tables['studentmodule']['rows']:,} rows "
                f"and problem_analysis {tables['problem_analysis']['rows']:,} rows; {seconds:.1f} s wall with "
                f"interpreter start-up and the bundle index)"
            )
        print(
            f"median of {len(rates)} runs ({where}): {statistics.median(rates):,.0f} studentmodule rows/s "
            f"(range {min(rates):,.0f}-{max(rates):,.0f}; target 150,000)"
        )
    finally:
        kill_agent(keys.home)
        kill_agent(keys.other_home)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
