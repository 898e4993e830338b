"""Benchmark: how long the report stage takes, first and again, beside the load it follows.

    .venv/bin/python bench/report_time.py [--users 1000] [--days 14] [--workdir DIR]

It writes the demo package scaled up (`make_demo_package.py --users U --days D`: three courses,
the learners' sessions, problems, videos and forum posts growing with the users), then runs the
workflow on DuckDB and times, each a Snakemake run of its own:

1. `load`: every log day and course loaded (the baseline the reports are compared with);
2. `report`, the first build: every course's 36 tables (the demo's `all_with_optional`) and its
   modal IPs looked up in the package's geoip database, then the organisation tables, with each
   course's seconds and its slowest tables from the receipts;
3. `report` again: nothing to do;
4. the range widened by a day, then `all`: the day split and loaded, and the tables that read
   the log built again.

Beside them, a plain scan of every course's tracklog in DuckDB (events per learner and day) gives
the machine's speed on the same data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.helpers import snakemake_command  # noqa: E402

END = dt.date(2026, 11, 8)


def make_package(root: Path, users: int, days: int) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "make_demo_package.py"),
            str(root / "package"),
            "--users",
            str(users),
            "--days",
            str(days + 1),  # the first day comes in the fourth run
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"make_demo_package failed:\n{done.stderr}")


def config_for(root: Path, begin: dt.date, end: dt.date) -> dict:
    config = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    config["source"]["local_root"] = str(root / "package" / "source")
    config["gpg"]["homedir"] = str(root / "package" / "gnupg")
    config["results_dir"] = str(root / "results")
    config["dates"] = {"begin": begin.isoformat(), "end": end.isoformat()}
    geoip = {"database": str(root / "package" / "geoip-demo.mmdb")}
    config["reports"] = {**config["reports"], "preview_rows": 0, "geoip": geoip}
    return config


def timed_run(root: Path, config: dict, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        snakemake_command(root, config, *args), cwd=root, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{done.stdout[-4000:]}{done.stderr}")
    return seconds, done.stdout + done.stderr


def receipts(results: Path) -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text())
        for path in sorted((results / "receipts" / "report").glob("*.json"))
    }


def tracklog_scan(results: Path) -> tuple[float, dict[str, int]]:
    """Seconds to count every course's events per learner and day, and each course's events."""
    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        schemas = [
            name
            for (name,) in connection.execute(
                "SELECT DISTINCT table_schema FROM information_schema.tables "
                "WHERE table_name = 'tracklog'"
            ).fetchall()
        ]
        started = time.perf_counter()
        events = {}
        for schema in schemas:
            rows = connection.execute(
                f'SELECT username, CAST(time AS DATE), count(*) FROM "{schema}".tracklog '
                "GROUP BY ALL"
            ).fetchall()
            events[schema.removesuffix("_logs")] = sum(row[2] for row in rows)
        return time.perf_counter() - started, events


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--workdir", type=Path, help="default: a temporary directory")
    args = parser.parse_args(argv)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="edxflow-report-"))
    try:
        started = time.perf_counter()
        make_package(root, args.users, args.days)
        print(
            f"package: {args.users} users, {args.days + 1} days ({time.perf_counter() - started:.0f} s)"
        )
        results = root / "results"
        first_day = END - dt.timedelta(days=args.days)
        # the range ends with the SQL bundle's day; the day before it comes in the fourth run
        weeks = config_for(root, first_day + dt.timedelta(days=1), END)

        load_seconds, _ = timed_run(root, weeks, "load")
        scan_seconds, events = tracklog_scan(results)
        report_seconds, _ = timed_run(root, weeks, "report")
        built = receipts(results)
        noop_seconds, output = timed_run(root, weeks, "report")
        if "Nothing to be done" not in output:
            raise SystemExit(f"the second report run was not a no-op:\n{output[-3000:]}")
        more_seconds, _ = timed_run(root, config_for(root, first_day, END), "all")
        again = receipts(results)

        print(f"events loaded: {sum(events.values()):,} in {len(built)} courses")
        print("| run | seconds |")
        print("|---|---|")
        print(f"| load (log days and courses), the baseline | {load_seconds:.1f} |")
        print(f"| tracklog scan (events per learner and day, every course) | {scan_seconds:.2f} |")
        print(
            f"| report, first build ({sum(len(r['rebuilt']) for r in built.values())} tables) | {report_seconds:.1f} |"
        )
        print(f"| report again (nothing to do) | {noop_seconds:.1f} |")
        rebuilt = sum(len(r["rebuilt"]) for r in again.values())
        print(f"| a new log day, `all` ({rebuilt} tables rebuilt) | {more_seconds:.1f} |")
        print("\n| course | learners | events | build s | slowest tables (s) |")
        print("|---|---|---|---|---|")
        for base, receipt in built.items():
            tables = receipt["tables"]
            slowest = sorted(tables, key=lambda name: -tables[name].get("seconds", 0))[:3]
            print(
                f"| {base} | {receipt['person_course']['learners']:,} | "
                f"{events.get(base, 0):,} | {receipt['seconds']:.1f} | "
                + ", ".join(f"{name} {tables[name]['seconds']:.2f}" for name in slowest)
                + " |"
            )
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
