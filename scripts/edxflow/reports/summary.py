"""What the report receipts say, for the end of a run, and the one receipt over many files the
report jobs take as their input (checksums)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from edxflow.core.atomic import write_json
from edxflow.core.errors import UserError
from edxflow.reports.build import COUNTED, receipt_file, table_ref
from edxflow.warehouse.load import warehouse_session
from edxflow.warehouse.plan import dataset_name
from edxflow.warehouse.settings import WarehouseSettings

log = logging.getLogger("edxflow.reports")

STATUSES = ("rebuilt", "unchanged", "skipped", "failed")


ORGANISATION_RECEIPT = Path("receipts", "report_organisation.json")
# Beyond this many courses the summary gives person_course's counts over all of them.
SUMMARY_COURSES = 20
PREVIEW_COLUMNS = (
    "user_id",
    "username",
    "registered",
    "viewed",
    "explored",
    "certified",
    "grade",
    "nevents",
    "ndays_act",
    "mode",
    "cc_by_ip",
    "city",
)


NO_GEO = (
    "  person_course's geo columns are NULL: set reports.geoip.database (a MaxMind City .mmdb) "
    "or reports.geo_table to fill them"
)


def read_receipts(results_dir: str | Path, bases: Iterable[str]) -> dict[str, dict]:
    """base -> the course's report receipt (receipts/report/{BASE}.json, as its last build left
    it), for the courses that have one."""
    receipts = {}
    for base in bases:
        try:
            receipt = json.loads(receipt_file(results_dir, base).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(receipt, dict) and isinstance(receipt.get("order"), list):
            receipts[base] = receipt  # not the planning benchmark's placeholders
    return receipts


def counts_line(counts: dict) -> str:
    return f"{counts['learners']:,} learners, " + ", ".join(
        f"{counts.get(name, 0):,} {name}" for name in COUNTED
    )


def report_summary(results_dir: str | Path, bases: Iterable[str]) -> str:
    """The courses' report receipts in a few lines: how many courses, tables each, how many tables
    were rebuilt, unchanged, skipped or failed, and person_course's counts of each course (over
    all courses beyond SUMMARY_COURSES). Empty when no course has a receipt."""
    receipts = read_receipts(results_dir, bases)
    if not receipts:
        return ""
    sizes = {len(receipt["order"]) for receipt in receipts.values()}
    counts = dict.fromkeys(STATUSES, 0)
    for receipt in receipts.values():
        for status in STATUSES:
            counts[status] += len(receipt.get(status) or [])
    each = f"{min(sizes)}" if len(sizes) == 1 else f"{min(sizes)}-{max(sizes)}"
    done = ", ".join(
        f"{count} {status}" for status, count in counts.items() if count or status != "failed"
    )
    lines = [f"Report tables: {len(receipts)} course(s), {each} table(s) each: {done}"]
    learners = {base: r["person_course"] for base, r in receipts.items() if "person_course" in r}
    if len(learners) > SUMMARY_COURSES:
        total = {
            name: sum(c.get(name, 0) for c in learners.values()) for name in ("learners", *COUNTED)
        }
        lines.append(f"  person_course over {len(learners):,} courses: {counts_line(total)}")
    else:
        lines += [
            f"  {base}.person_course: {counts_line(c)}" for base, c in sorted(learners.items())
        ]
    if any(
        "person_course" in r["order"] and "geo" in r and r["geo"] is None for r in receipts.values()
    ):
        lines.append(NO_GEO)
    return "\n".join([*lines, *organisation_lines(results_dir)])


def read_organisation(results_dir: str | Path) -> dict | None:
    try:
        receipt = json.loads(Path(results_dir, ORGANISATION_RECEIPT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return receipt if isinstance(receipt, dict) and "dataset" in receipt else None


def organisation_lines(results_dir: str | Path) -> list[str]:
    """The organisation tables' line: each table with its rows and courses."""
    receipt = read_organisation(results_dir)
    if receipt is None:
        return []
    built = [
        f"{name} {entry['rows']:,} rows from {entry['courses']:,} course(s)"
        for name, entry in sorted(receipt["tables"].items())
        if entry.get("status") in ("rebuilt", "unchanged")
    ]
    return [f"Organisation tables in {receipt['dataset']}: " + (", ".join(built) or "none")]


def preview(settings: WarehouseSettings, results_dir: str | Path, bases: Iterable[str], rows: int):
    """The first `rows` rows (by user_id) of each course's person_course, a few columns of them,
    as text; empty when `rows` is 0 or no course has the table. Personal data: only where the
    configuration asks for it (reports.preview_rows)."""
    receipts = read_receipts(results_dir, bases) if rows > 0 else {}
    with_table = sorted(base for base, receipt in receipts.items() if "person_course" in receipt)
    if not with_table:
        return ""
    try:
        return "\n".join(preview_lines(settings, results_dir, with_table, rows))
    except UserError as error:
        return f"person_course not shown: {error}"


def preview_lines(settings: WarehouseSettings, results_dir, bases: list[str], rows: int):
    lines = []
    organisation = read_organisation(results_dir)
    with warehouse_session(settings, results_dir) as warehouse:
        summary = (organisation or {}).get("tables", {}).get("course_summary", {})
        if summary.get("status") in ("rebuilt", "unchanged") and summary["rows"] <= SUMMARY_COURSES:
            table = table_ref(warehouse, organisation["dataset"], "course_summary")
            found = warehouse.select(f"SELECT * FROM {table} ORDER BY course_id")
            lines.append(f"{organisation['dataset']}.course_summary:")
            lines += [
                "  " + ", ".join(f"{key} {value}" for key, value in row.items()) for row in found
            ]
        for base in bases:
            dataset = dataset_name(base, "sql")
            table = table_ref(warehouse, dataset, "person_course")
            found = warehouse.select(
                f"SELECT {', '.join(PREVIEW_COLUMNS)} FROM {table} ORDER BY user_id LIMIT {rows}"
            )
            lines.append(f"{dataset}.person_course, its first {len(found)} row(s):")
            lines.append("  " + " | ".join(PREVIEW_COLUMNS))
            lines += [
                "  " + " | ".join(str(row[name]) for name in PREVIEW_COLUMNS) for row in found
            ]
    return lines


def file_checksum(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def checksums(files: Iterable[str | Path], output: str | Path) -> dict:
    """One receipt standing for many files: each with its sha256, size and modification time.
    A report job takes it as one input in place of all of them (every log day's load receipt,
    every template): it is written again whenever one of them changes, so the jobs run again
    then, and their fingerprints rebuild only the tables whose inputs changed."""
    found = {}
    for path in sorted(str(path) for path in files):
        status = os.stat(path)
        found[path] = {
            "sha256": file_checksum(path),
            "bytes": status.st_size,
            "mtime_ns": status.st_mtime_ns,
        }
    receipt = {"files": len(found), "checksums": found}
    write_json(output, receipt)
    log.info("%d file(s) summed up in %s", len(found), output)
    return receipt
