#!/usr/bin/env python3
"""Write a small, realistic, GPG-encrypted edX research data package for the org `demox`.

OUTDIR gets `source/{bucket}/{key}` (a local mirror of the S3 buckets), `gnupg/` (a throwaway
GNUPGHOME holding the demo key, no passphrase), `geoip-demo.mmdb` (a MaxMind-format database placing
the learners' IPs in made-up cities) and a `DEMO_PACKAGE` marker. An existing OUTDIR is
replaced only if it holds that marker (or is empty).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from edxflow.demo import (  # noqa: E402
    DEFAULT_DAYS,
    DEFAULT_END_DATE,
    DEFAULT_SEED,
    MIN_USERS,
    USER_COUNT,
    DemoPackageError,
    write_demo_package,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("outdir", type=Path, help="directory to write (e.g. demo)")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        help=f"number of daily tracking logs, ending at --end-date (default {DEFAULT_DAYS})",
    )
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=f"last log day and the SQL/email snapshot date, YYYY-MM-DD (default {DEFAULT_END_DATE})",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=USER_COUNT,
        help=f"number of learners and staff, at least {MIN_USERS} (default {USER_COUNT})",
    )
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    if args.users < MIN_USERS:
        parser.error(f"--users must be at least {MIN_USERS}")
    return args


def print_summary(summary: dict) -> None:
    print(f"demo package written to {summary['outdir']}")
    print(f"GNUPGHOME: {summary['gnupghome']} (key {summary['fingerprint']}, no passphrase)")
    print(f"geoip database (made-up places): {summary['geoip_database']}")
    print(f"courses: {', '.join(summary['courses'])}")
    print(f"users: {summary['users']}, enrollments: {summary['enrollments']}")
    print(
        "events per day: "
        + ", ".join(f"{day} {count}" for day, count in summary["events_per_day"].items())
    )
    print(f"files ({len(summary['files'])}):")
    for path in summary["files"]:
        print(f"  {path}")


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        summary = write_demo_package(
            args.outdir, seed=args.seed, days=args.days, end_date=args.end_date, users=args.users
        )
    except DemoPackageError as error:
        print(f"make_demo_package: {error}", file=sys.stderr)
        return 1
    print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
