"""The run report of a results directory, from its receipts alone: three plots (events per course
per day; events of no course and rejected lines per day, by reason; each step's seconds), two
tables as HTML and CSV (rows of every table per course; the package objects selected and passed
over, with the reason) and the data behind the plots as JSON."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from edxflow.core.atomic import write_json
from edxflow.run_report import plots
from edxflow.run_report.receipts import (
    NO_COURSE,
    RunReceipts,
    events_per_day,
    lines_per_day,
    outside_courses_per_day,
    package_objects,
    read_splits,
    step_times,
    table_rows,
)
from edxflow.run_report.tables import html_table, write_csv, write_html

log = logging.getLogger(__name__)

ROW_COLUMNS = ["course", "dataset", "table", "rows", "stage", "status"]
OBJECT_COLUMNS = ["status", "reason", "file_type", "site", "date", "key", "size"]


@dataclasses.dataclass
class RunReportFiles:
    """Where each part of the run report goes."""

    events: str
    outside: str
    times: str
    rows_html: str
    rows_csv: str
    objects_html: str
    objects_csv: str
    data: str

    @classmethod
    def in_directory(cls, directory: str | Path) -> RunReportFiles:
        """The files under their usual names in `directory`."""
        names = {
            "events": "events_per_day.png",
            "outside": "no_course_and_rejects_per_day.png",
            "times": "step_times.png",
            "rows_html": "table_rows.html",
            "rows_csv": "table_rows.csv",
            "objects_html": "package_objects.html",
            "objects_csv": "package_objects.csv",
            "data": "plot_data.json",
        }
        return cls(**{field: str(Path(directory, name)) for field, name in names.items()})


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def write_run_report(receipts: RunReceipts, files: RunReportFiles, top: int = plots.TOP) -> dict:
    """Write every file of the run report; returns the data behind the plots (also in files.data)."""
    splits = read_splits(receipts.splits)
    events = events_per_day(splits)
    by_course: dict[str, int] = {}
    for courses in events.values():
        for course, count in courses.items():
            by_course[course] = by_course.get(course, 0) + count
    drawn_events = plots.stacked_per_day(
        files.events,
        events,
        f"Events per course per day: {sum(by_course.values()):,} events of "
        f"{_plural(len(by_course), 'course')} over {_plural(len(events), 'day')}",
        "events",
        "no tracking log was split in this run",
        top,
        other="other {count:,} courses",
    )
    outside = outside_courses_per_day(splits)
    lines = lines_per_day(splits)
    no_course = sum(day["no_course"] for day in lines.values())
    rejected = sum(day["rejected"] for day in lines.values())
    drawn_outside = plots.stacked_per_day(
        files.outside,
        outside,
        f"Not in a course file, per day: {no_course:,} events of no course, "
        f"{rejected:,} rejected lines (by reason)",
        "lines",
        "no tracking log was split in this run",
        top,
        other="other {count:,} reasons",
        first=NO_COURSE,
    )
    drawn_times = plots.step_times(files.times, step_times(receipts))
    rows = table_rows(receipts)
    write_csv(files.rows_csv, ROW_COLUMNS, rows)
    write_html(files.rows_html, "Rows per table per course", _row_sections(rows))
    objects = package_objects(receipts)
    write_csv(files.objects_csv, OBJECT_COLUMNS, objects)
    write_html(files.objects_html, "Package objects", _object_sections(objects))
    data = {
        "events_per_day": drawn_events,
        "events_by_course": dict(sorted(by_course.items())),
        "no_course_and_rejects_per_day": drawn_outside,
        "lines_per_day": lines,
        "step_times": drawn_times,
        "tables": len(rows),
        "package_objects": {
            status: sum(1 for item in objects if item["status"] == status)
            for status in ("selected", "passed over")
        },
    }
    write_json(files.data, data)
    timed = sum(step["jobs"] for step in drawn_times["steps"].values())
    log.info(
        "run report in %s: %s of %s over %s; %s; %s; %s selected, %s passed over",
        Path(files.data).parent,
        _plural(sum(by_course.values()), "event"),
        _plural(len(by_course), "course"),
        _plural(len(events), "day"),
        _plural(timed, "timed job"),
        _plural(len(rows), "table"),
        _plural(data["package_objects"]["selected"], "package object"),
        f"{data['package_objects']['passed over']:,}",
    )
    return data


def _dataset_kind(row: dict) -> str:
    """`{BASE}_logs` -> `_logs`, `{BASE}_latest` -> `_latest`; the organisation's dataset whole."""
    for suffix in ("_logs", "_latest"):
        if row["dataset"].endswith(suffix) and not row["course"].startswith("("):
            return f"{{BASE}}{suffix}"
    return row["dataset"]


def _row_sections(rows: list[dict]) -> list[tuple[str, str, str]]:
    if not rows:
        return [("No tables", "No load or report receipt in this run.", "")]
    per_table: dict[tuple[str, str, str], dict] = {}
    for row in rows:
        key = (_dataset_kind(row), row["table"], row["stage"])
        entry = per_table.setdefault(
            key,
            {"dataset": key[0], "table": key[1], "stage": key[2], "courses": 0, "rows": 0},
        )
        entry["courses"] += 1
        entry["rows"] += row["rows"] or 0
    courses = {row["course"] for row in rows if not row["course"].startswith("(")}
    summary = html_table(
        ["dataset", "table", "stage", "courses", "rows"],
        [per_table[key] for key in sorted(per_table)],
        {"courses", "rows"},
    )
    full = html_table(ROW_COLUMNS, rows, {"rows"})
    return [
        (
            "Per table",
            f"{_plural(len(per_table), 'table')} over {_plural(len(courses), 'course')}: each "
            "table's rows added up over the courses' datasets. Loaded tables count as the newest "
            "load of each of their units (a log day, a table) says; report tables as their "
            "course's report job built them.",
            summary,
        ),
        (
            "Per course",
            f"Every table of every course ({len(rows):,} rows, also in table_rows.csv). A status "
            "other than loaded, rebuilt or unchanged means the table is not there: see the "
            "course's report receipt for the reason.",
            full,
        ),
    ]


def _object_sections(objects: list[dict]) -> list[tuple[str, str, str]]:
    if not objects:
        return [("No objects", "No manifest in this run: nothing was listed.", "")]
    groups: dict[tuple[str, str], dict] = {}
    for item in objects:
        key = (item["file_type"], item["site"])
        entry = groups.setdefault(
            key,
            {
                "file_type": key[0],
                "site": key[1],
                "selected": 0,
                "bytes": 0,
                "passed over": 0,
            },
        )
        if item["status"] == "selected":
            entry["selected"] += 1
            entry["bytes"] += item["size"] or 0
        else:
            entry["passed over"] += 1
    passed_over = [item for item in objects if item["status"] == "passed over"]
    selected = [item for item in objects if item["status"] == "selected"]
    sections = [
        (
            "Per file type and site",
            "Objects the listing selected (dated inside the configured dates; SQL bundles and "
            "email files are weekly snapshots, of which the newest is processed unless "
            "snapshots: all) and objects under the same prefixes it passed over.",
            html_table(
                ["file_type", "site", "selected", "bytes", "passed over"],
                [groups[key] for key in sorted(groups)],
                {"selected", "bytes", "passed over"},
            ),
        ),
        (
            f"Passed over ({len(passed_over):,})",
            "Never downloaded, with the reason." if passed_over else "None.",
            html_table(["reason", "file_type", "site", "key", "size"], passed_over, {"size"})
            if passed_over
            else "",
        ),
        (
            f"Selected ({len(selected):,})",
            "",
            html_table(["file_type", "site", "date", "key", "size"], selected, {"size"}),
        ),
    ]
    return sections
