"""Benchmark: how long the workflow takes to plan a whole organisation, and to find nothing to do.

    .venv/bin/python bench/plan_time.py [--sizes 1x100,3x500,3x1000] [--snapshots latest|all] [--workdir DIR]

For each size YEARSxCOURSES it writes a local source holding only names and zip directories (a daily
log a day on one site, a weekly SQL bundle with every course's members, a weekly email file; the
objects are empty), then measures, each in a fresh process:

1. the listing of the source (what every plan does first);
2. the dry run (`snakemake -n`) after the newest bundle has been fetched and indexed, the plan of
   a first full run: its jobs, seconds and peak memory;
3. a no-op run once every output is in place (written by this script, newer than its inputs):
   seconds and peak memory, and whether Snakemake found nothing to do.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

from edxflow.core import naming  # noqa: E402
from edxflow.fetch.manifest import refresh_listing  # noqa: E402
from edxflow.run_report.build import RunReportFiles  # noqa: E402
from tests.helpers import snakemake_command  # noqa: E402

ORG = "mitx"
TABLES = [
    "auth_user",
    "auth_userprofile",
    "student_courseenrollment",
    "courseware_studentmodule",
    "certificates_generatedcertificate",
    "user_id_map",
]


def course_ids(count: int) -> list[str]:
    return [
        f"MITx/{number}x/{2020 + number % 6}_T{number % 3 + 1}" for number in range(1, count + 1)
    ]


def write_source(root: Path, years: int, courses: int, end: dt.date) -> dict:
    """Names and zip directories only: what listing, planning and the bundle index read."""
    log_dir = root / "edx-course-data"
    data_dir = root / "course-data"
    days = [end - dt.timedelta(days=offset) for offset in range(365 * years)]
    for day in days:
        path = log_dir / naming.log_key(ORG, "edx", day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    members = [
        f"{ORG}-{day:%Y-%m-%d}/{course.replace('/', '-')}-{table}-prod-analytics.sql.gpg"
        for course in course_ids(courses)
        for table in TABLES
        for day in [end]
    ]
    weeks = [day for day in days if day.weekday() == end.weekday()]
    for week in weeks:
        bundle = data_dir / naming.sql_key(ORG, week)
        bundle.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(bundle, "w") as archive:
            for name in members if week == end else members[:1]:
                archive.writestr(name, b"")
        email = data_dir / naming.email_key(ORG, week)
        email.parent.mkdir(parents=True, exist_ok=True)
        email.touch()
    return {
        "days": len(days),
        "bundles": len(weeks),
        "email_files": len(weeks),
        "courses": courses,
        "begin": min(days).isoformat(),
        "end": end.isoformat(),
    }


def measure(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float, int]:
    """(result, seconds, peak RSS in bytes of the process and its children)."""
    started = time.perf_counter()
    process = psutil.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak, output = 0, []
    reader = threading.Thread(target=lambda: output.append(process.stdout.read()))
    reader.start()
    while process.poll() is None:
        try:
            family = [process, *process.children(recursive=True)]
            peak = max(peak, sum(member.memory_info().rss for member in family))
        except psutil.Error:
            pass
        time.sleep(0.05)
    reader.join()
    seconds = time.perf_counter() - started
    return (
        subprocess.CompletedProcess(command, process.returncode, "".join(output), ""),
        seconds,
        peak,
    )


def jobs_planned(output: str) -> int:
    found = re.search(r"^total\s+(\d+)$", output, re.M)
    return int(found.group(1)) if found else 0


def write_outputs(results: Path, config: dict, source: dict) -> None:
    """Every output a finished run leaves, in the order the jobs would write them (the no-op run
    then finds each newer than its inputs). Receipts are placeholders; nothing reads them then."""
    manifests = results / "manifests" / "objects"
    logs = json.loads((manifests / "log" / "edx.json").read_text())
    bundles = json.loads((manifests / "sql" / "all.json").read_text())
    emails = json.loads((manifests / "email" / "all.json").read_text())
    newest_bundle = bundles[-1]["key"].removesuffix(".zip")
    index = json.loads((results / "manifests" / "sql" / f"{newest_bundle}.json").read_text())
    receipts = results / "receipts"
    first = [receipts / "split_tracking_log" / "edx" / f"{item['date']}.json" for item in logs]
    first += [
        receipts / "sql_course" / newest_bundle / f"{entry['base']}.json"
        for entry in index["courses"]
    ]
    chosen_emails = emails if config["snapshots"] == "all" else emails[-1:]
    first += [receipts / "decrypt" / "email" / f"{item['date']}.json" for item in chosen_emails]
    if config["snapshots"] == "all":
        first += [
            receipts / "sql_snapshot" / f"{item['key'].removesuffix('.zip')}.json"
            for item in bundles[:-1]
        ]
    for item in chosen_emails:
        (results / "decrypted" / "email" / item["date"]).mkdir(parents=True, exist_ok=True)
    second = [receipts / "email_opt_in" / f"{item['date']}.json" for item in chosen_emails]
    third = [receipts / "load" / "log" / "edx" / f"{item['date']}.json" for item in logs]
    third += [receipts / "load" / "sql" / f"{entry['base']}.json" for entry in index["courses"]]
    third += [receipts / "load" / "email" / f"{emails[-1]['date']}.json"]
    # the report jobs read the course's SQL load, the one receipt over every log day's load and
    # the one over the templates
    fourth = [receipts / "load" / "log.json", receipts / "report_templates.json"]
    fifth = [receipts / "report" / f"{entry['base']}.json" for entry in index["courses"]]
    sixth = [receipts / "report_organisation.json"]
    # the run report, over every receipt
    seventh = [
        Path(path) for path in vars(RunReportFiles.in_directory(results / "run_report")).values()
    ]
    for group in (first, second, third, fourth, fifth, sixth, seventh):
        time.sleep(0.02)
        for path in group:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}\n")


def bench_size(workdir: Path, years: int, courses: int, snapshots: str) -> dict:
    root = workdir / f"{years}y-{courses}c"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.perf_counter()
    source = write_source(root / "source", years, courses, dt.date(2026, 11, 29))
    built = time.perf_counter() - started
    config = {
        "org": ORG,
        "sites": ["edx"],
        "file_types": ["log", "sql", "email"],
        "dates": {"begin": source["begin"], "end": source["end"]},
        "snapshots": snapshots,
        "source": {"kind": "local", "local_root": str(root / "source")},
        "results_dir": str(root / "results"),
    }

    from edxflow.core.config import validate_config

    units = naming.site_units(config["file_types"], config["sites"])
    listed_at = time.perf_counter()
    listing = refresh_listing(validate_config(copy.deepcopy(config)), units, root / "listing")
    listing_seconds = time.perf_counter() - listed_at
    objects = sum(len(unit["objects"]) for unit in listing.values())

    newest = listing[("sql", naming.ALL_SITES)]["objects"][-1]["key"].removesuffix(".zip")
    index = root / "results" / "manifests" / "sql" / f"{newest}.json"
    indexed = subprocess.run(
        snakemake_command(root, config, str(index)), cwd=root, capture_output=True, text=True
    )
    if indexed.returncode:
        raise SystemExit(f"indexing the newest bundle failed:\n{indexed.stdout}{indexed.stderr}")

    planned, plan_seconds, plan_peak = measure(
        snakemake_command(root, config, "-n", "--quiet", "rules"), root
    )
    if planned.returncode:
        raise SystemExit(f"the dry run failed:\n{planned.stdout}")
    write_outputs(root / "results", config, source)
    noop, noop_seconds, noop_peak = measure(snakemake_command(root, config), root)
    if noop.returncode:
        raise SystemExit(f"the no-op run failed:\n{noop.stdout}")
    nothing = "Nothing to be done" in noop.stdout
    if not nothing:
        print(noop.stdout[-3000:], file=sys.stderr)
    return {
        "size": f"{years} year(s) x {courses} courses",
        "objects": objects,
        "days": source["days"],
        "bundles": source["bundles"],
        "source_seconds": round(built, 1),
        "listing_seconds": round(listing_seconds, 2),
        "jobs": jobs_planned(planned.stdout),
        "plan_seconds": round(plan_seconds, 1),
        "plan_peak_mb": round(plan_peak / 1e6),
        "noop_seconds": round(noop_seconds, 1),
        "noop_peak_mb": round(noop_peak / 1e6),
        "noop_nothing_to_do": nothing,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="1x100,3x500,3x1000", help="YEARSxCOURSES,... (default %(default)s)"
    )
    parser.add_argument("--snapshots", choices=["latest", "all"], default="latest")
    parser.add_argument(
        "--workdir", type=Path, help="where to build the sources (default: a temporary directory)"
    )
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edxflow-plan-"))
    rows = []
    try:
        for size in args.sizes.split(","):
            years, courses = (int(part) for part in size.lower().split("x"))
            row = bench_size(workdir, years, courses, args.snapshots)
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nsnapshots: {args.snapshots}")
    print(
        "| organisation | objects listed | listing | jobs planned | dry run | peak memory | no-op run | peak memory |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['size']} ({row['days']} days, {row['bundles']} bundles) | {row['objects']:,} | "
            f"{row['listing_seconds']} s | {row['jobs']:,} | {row['plan_seconds']} s | {row['plan_peak_mb']} MB | "
            f"{row['noop_seconds']} s{'' if row['noop_nothing_to_do'] else ' (NOT a no-op)'} | "
            f"{row['noop_peak_mb']} MB |"
        )
    return 0 if all(row["noop_nothing_to_do"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
