"""A run's receipts read into plain data for the run report: events per course and day, the lines
of no course and the rejects per day with their reasons, each step's seconds, the rows of every
table per course, and the package objects selected and passed over. Nothing here opens the
warehouse or a data file: receipts and manifests only.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from edxflow.core.atomic import read_json
from edxflow.warehouse.load import loaded_rows

NO_COURSE = "no course"


@dataclasses.dataclass
class RunReceipts:
    """The receipts and manifests of a run, by kind (paths; any kind may be empty)."""

    manifests: list[str] = dataclasses.field(default_factory=list)
    passed_over: list[str] = dataclasses.field(default_factory=list)
    splits: list[str] = dataclasses.field(default_factory=list)
    sql_courses: list[str] = dataclasses.field(default_factory=list)
    loads: list[str] = dataclasses.field(default_factory=list)
    reports: list[str] = dataclasses.field(default_factory=list)
    organisation: list[str] = dataclasses.field(default_factory=list)


def find_receipts(results_dir: str | Path) -> RunReceipts:
    """The receipts a results directory holds (for a run report made by hand; the workflow names
    its rule's inputs itself)."""
    root = Path(results_dir)

    def found(pattern: str) -> list[str]:
        return sorted(str(path) for path in root.glob(pattern))

    objects = found("manifests/objects/*/*.json")
    return RunReceipts(
        manifests=[path for path in objects if not path.endswith(".passed_over.json")],
        passed_over=[path for path in objects if path.endswith(".passed_over.json")],
        splits=found("receipts/split_tracking_log/*/*.json"),
        sql_courses=found("receipts/sql_course/*/*.json"),
        # receipts/load/{type}/...: not receipts/load/log.json, the log loads' aggregate
        loads=found("receipts/load/*/**/*.json"),
        reports=found("receipts/report/*.json"),
        organisation=found("receipts/report_organisation.json"),
    )


def _day(path: str, receipt: dict) -> str:
    """The date of a split's daily file (its receipt's input, else the receipt's name)."""
    return (receipt.get("input") or {}).get("date") or Path(path).stem


def read_splits(paths: list[str]) -> list[tuple[str, dict]]:
    """The split receipts, each read once for the counts below: (path, receipt)."""
    return [(path, read_json(path)) for path in paths]


def events_per_day(splits: list[tuple[str, dict]]) -> dict[str, dict[str, int]]:
    """Day -> course id -> events written to the course's file (every site's file of the day)."""
    days: dict[str, dict[str, int]] = {}
    for path, receipt in splits:
        courses = days.setdefault(_day(path, receipt), {})
        for course, count in receipt.get("by_course", {}).items():
            courses[course] = courses.get(course, 0) + count
    return {day: dict(sorted(days[day].items())) for day in sorted(days)}


def outside_courses_per_day(splits: list[tuple[str, dict]]) -> dict[str, dict[str, int]]:
    """Day -> what is in no course file: `no course` (events of no course) and each reason lines
    were rejected for (`rejected_by_reason`), with their counts."""
    days: dict[str, dict[str, int]] = {}
    for path, receipt in splits:
        counts = days.setdefault(_day(path, receipt), {})
        counts[NO_COURSE] = counts.get(NO_COURSE, 0) + receipt.get("no_course", 0)
        reasons = receipt.get("rejected_by_reason") or {}
        if receipt.get("rejected") and not reasons:
            reasons = {"rejected": receipt["rejected"]}
        for reason, count in reasons.items():
            counts[reason] = counts.get(reason, 0) + count
    return {day: dict(sorted(days[day].items())) for day in sorted(days)}


# The line counts of a split receipt, in the order they add up to lines_in.
LINE_COUNTS = ("lines_in", "blank", "events", "no_course", "rejected", "duplicates", "filtered_out")


def lines_per_day(splits: list[tuple[str, dict]]) -> dict[str, dict[str, int]]:
    """Day -> every line count of its splits: lines_in = blank + events + no_course + rejected +
    duplicates + filtered_out."""
    days: dict[str, dict[str, int]] = {}
    for path, receipt in splits:
        counts = days.setdefault(_day(path, receipt), dict.fromkeys(LINE_COUNTS, 0))
        for name in LINE_COUNTS:
            if name == "events":
                counts[name] += sum(receipt.get("by_course", {}).values())
            else:
                counts[name] += receipt.get(name) or 0
    return {day: days[day] for day in sorted(days)}


def _unit(path: str, step: str) -> str:
    """What a receipt is of, from its path below its step's directory:
    `receipts/load/log/edx/2026-11-05.json` -> `log/edx/2026-11-05` for step `load`."""
    parts = Path(path).with_suffix("").parts
    at = len(parts) - 1 - parts[::-1].index(step) if step in parts else len(parts) - 2
    return "/".join(parts[at + 1 :])


# Steps whose receipts say how long they took: kind of receipt -> the step's name in the report,
# and the directory of its receipts below which their path names the unit (None: the course).
TIMED_STEPS = {
    "splits": ("split_tracking_log", "split_tracking_log"),  # {site}/{date}
    "sql_courses": ("sql_course", None),  # {bundle}/{BASE}: the bundle is the newest
    "loads": ("load_files", "load"),  # {file_type}/{unit}
    "reports": ("report_course", None),
    "organisation": ("report_organisation", None),
}


def step_times(receipts: RunReceipts) -> list[dict]:
    """Every timed job: {step, unit, seconds}, in the order of the steps, then of the units."""
    jobs = []
    for kind, (step, directory) in TIMED_STEPS.items():
        for path in sorted(getattr(receipts, kind)):
            seconds = read_json(path).get("seconds")
            if seconds is None:
                continue
            if kind == "organisation":
                unit = ""
            else:
                unit = _unit(path, directory) if directory else Path(path).stem
            jobs.append({"step": step, "unit": unit, "seconds": float(seconds)})
    return jobs


def by_age(paths: list[str]) -> list[str]:
    """Oldest first: of two receipts of one unit, the newer one is the warehouse's state."""
    return sorted(paths, key=lambda path: (os.stat(path).st_mtime_ns, path))


def table_rows(receipts: RunReceipts) -> list[dict]:
    """Every table of every course with its rows: loaded (the tracking log, the newest SQL
    bundle's tables, email opt-in: as the newest load receipt of each unit says) and built by the
    report stage (each course's report tables, the organisation's), sorted by course, dataset and
    table. {course, dataset, table, rows, stage, status}; rows is None for a table not built."""
    found = [
        {
            "course": course,
            "dataset": dataset,
            "table": table,
            "rows": rows,
            "stage": "load",
            "status": "loaded",
        }
        for (course, dataset, table), rows in loaded_rows(by_age(receipts.loads)).items()
    ]
    for path in receipts.reports:
        receipt = read_json(path)
        for table, entry in receipt.get("tables", {}).items():
            found.append(
                {
                    "course": receipt.get("base", Path(path).stem),
                    "dataset": receipt.get("latest_dataset", ""),
                    "table": table,
                    "rows": entry.get("rows"),
                    "stage": "report",
                    "status": entry.get("status", ""),
                }
            )
    for path in receipts.organisation:
        receipt = read_json(path)
        for table, entry in receipt.get("tables", {}).items():
            found.append(
                {
                    "course": f"(all {receipt.get('courses', 0)} courses)",
                    "dataset": receipt.get("dataset", ""),
                    "table": table,
                    "rows": entry.get("rows"),
                    "stage": "report",
                    "status": entry.get("status", ""),
                }
            )
    return sorted(found, key=lambda row: (row["course"], row["dataset"], row["table"]))


def _site(path: str) -> str:
    return Path(path).name.removesuffix(".json").removesuffix(".passed_over")


def package_objects(receipts: RunReceipts) -> list[dict]:
    """Every object the listing selected (inside the dates) and passed over (with the reason):
    {file_type, site, date, key, size, status, reason}, selected first, each by type, site and key."""
    objects = []
    for status, paths in (("selected", receipts.manifests), ("passed over", receipts.passed_over)):
        for path in sorted(paths):
            file_type, site = Path(path).parent.name, _site(path)
            for item in read_json(path):
                objects.append(
                    {
                        "file_type": file_type,
                        "site": site,
                        "date": item.get("date") or "",
                        "key": f"{item.get('bucket', '')}/{item.get('key', '')}",
                        "size": item.get("size"),
                        "status": status,
                        "reason": item.get("reason", ""),
                    }
                )
    return objects
