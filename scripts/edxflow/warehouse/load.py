"""Per-course files into the warehouse, incrementally: only the units (tables, log days) whose files
changed since the last load are replaced; the receipt lists every unit with its rows.

A load job takes what one step wrote: a daily log's split (every course with events that day), a
course's newest SQL tables, or an email opt-in file (every course). A failed daily file therefore
holds back only its own day, and a run's jobs grow with files plus courses."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Iterable

from edxflow.core.atomic import write_json
from edxflow.core.progress import Progress
from edxflow.warehouse.interface import Warehouse
from edxflow.warehouse.plan import changed_units, dataset_name, gone_units, log_day, plan_units
from edxflow.warehouse.publish import gcs_uri
from edxflow.warehouse.settings import WarehouseSettings
from edxflow.warehouse.unit_files import log_partition_files, unit_files

log = logging.getLogger("edxflow.warehouse.load")

# Days of a partitioned table replaced together: a first load of years of logs goes through the
# staging table a month at a time, which bounds its size (memory, and one BigQuery job's URIs).
DAY_BATCH = 31


def description(base: str, file_type: str) -> str:
    if file_type == "log":
        return f"Tracking logs of {base}, one row per event (edxflow)."
    return f"Tables of {base}: its newest weekly SQL bundle and email opt-in (edxflow)."


def open_warehouse(settings: WarehouseSettings, results_dir: str | Path) -> Warehouse:
    """The warehouse the settings name."""
    if settings.kind == "duckdb":
        from edxflow.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(settings.path, results_dir)
    from edxflow.warehouse.bigquery import BigQueryWarehouse
    from edxflow.warehouse.google_cloud import bigquery_client

    client = bigquery_client(settings.project, settings.location, settings.service_account_file)
    return BigQueryWarehouse(client, results_dir, settings.location)


def load_units(
    warehouse: Warehouse,
    file_type: str,
    base: str,
    results_dir: str | Path,
    files: list[str],
    log_tables: str = "partitioned",
    bucket: str | None = None,
    published: set[str] | None = None,
    progress: Progress | None = None,
) -> dict:
    """Load what changed of one course's files, and drop the tables an earlier load of the file type
    wrote that the files no longer have (a SQL table gone from the newest bundle); returns its
    receipt. Raises before recording anything on a failure. With a bucket, a unit is loaded from
    its gs:// objects when all of its files are in `published` (all when None), else from the local files.
    With a progress, the units' file bytes count as done as their batches are loaded (unchanged
    units at once), with the rows loaded."""
    started = time.monotonic()
    units = plan_units(file_type, base, files, results_dir, log_tables)
    dataset = dataset_name(base, file_type)
    # A SQL or email load without a table still drops what the previous one loaded.
    datasets = [dataset] if units or file_type != "log" else []
    state = {}
    if datasets:
        warehouse.ensure_dataset(dataset, description(base, file_type))
        state = warehouse.read_state(dataset)
    changed, gone = changed_units(units, state), gone_units(file_type, units, state)
    remote = {
        unit.key
        for unit in changed
        if bucket and (published is None or published.issuperset(unit.files))
    }
    sources = {
        unit.key: [gcs_uri(bucket, file_type, name) for name in unit.files]
        if unit.key in remote
        else None
        for unit in changed
    }

    def done(batch: list, loaded: dict[str, int]) -> None:
        if progress is not None and batch:
            files = [name for unit in batch for name in unit.files]
            progress.add(file_bytes(results_dir, files), sum(loaded.values()))

    changed_keys = {unit.key for unit in changed}
    done([unit for unit in units if unit.key not in changed_keys], {})
    # Whole tables are replaced one by one; days of a partitioned table together, in batches that
    # read either gs:// objects or local files.
    tables = [unit for unit in changed if not unit.day]
    counts = warehouse.replace_tables(tables, sources)
    done(tables, counts)
    for batch in (
        [u for u in changed if u.day and u.key in remote],
        [u for u in changed if u.day and u.key not in remote],
    ):
        for start in range(0, len(batch), DAY_BATCH):
            days = batch[start : start + DAY_BATCH]
            day_counts = warehouse.replace_days(days, sources)
            done(days, day_counts)
            counts.update(day_counts)
    loaded = [(unit, counts[unit.key]) for unit in changed]
    for unit, rows in loaded:
        log.info("%s.%s: %d row(s) from %d file(s)", unit.dataset, unit.key, rows, len(unit.files))
    if gone:
        log.info("%s: %s dropped (no longer in the %s files)", dataset, ", ".join(gone), file_type)
        warehouse.drop_tables(dataset, gone)
    if loaded or gone:
        warehouse.write_state(dataset, file_type, loaded, gone)
    loaded_keys = {unit.key for unit, _ in loaded}
    rows_by_key = {
        **{key: rows for key, (_, rows, _) in state.items()},
        **{unit.key: rows for unit, rows in loaded},
    }
    tables = {}
    for unit in units:
        entry = tables.setdefault(unit.table, {"dataset": unit.dataset, "rows": 0, "units": {}})
        rows = rows_by_key[unit.key]
        entry["rows"] += rows
        entry["units"][unit.key] = {
            "rows": rows,
            "files": unit.files,
            "loaded": unit.key in loaded_keys,
        }
    return {
        "course": base,
        "datasets": datasets,
        "tables": tables,
        "loaded": [unit.key for unit, _ in loaded],
        "unchanged": len(units) - len(loaded),
        "dropped": gone,
        "seconds": round(time.monotonic() - started, 3),
    }


def file_bytes(results_dir: str | Path, files: list[str]) -> int:
    """The size of the files (relative to the results directory) there are."""
    total = 0
    for name in files:
        try:
            total += os.stat(Path(results_dir, name)).st_size
        except OSError:
            pass
    return total


def course_load_files(
    file_type: str, results_dir: str | Path, base: str, files: list[str]
) -> list[str]:
    """What a course's load reads: a split day's files stand for every file of the course days
    they hold (another daily file may hold events of the same day)."""
    if file_type != "log":
        return files
    days = sorted({log_day(Path(name).name) for name in files})
    return [name for day in days for name in log_partition_files(results_dir, base, day)]


# Courses of one unit loaded at once on BigQuery (each is a few API calls and jobs waited for).
BIGQUERY_COURSES_AT_ONCE = 8
# See load_settled: each pass only sees files that were not there at the previous one.
SETTLE_PASSES = 3


def load_settled(
    warehouse: Warehouse,
    settings: WarehouseSettings,
    file_type: str,
    results_dir: str | Path,
    base: str,
    files: list[str],
) -> dict:
    """Load a course's files of one unit (from the settings' bucket, if any). A log day is read
    again after its load: another job may have finished a file of the same course days meanwhile
    (loads run side by side on BigQuery), and then the days it touched are loaded again, so the
    last load of a day always has all of it."""
    bucket = settings.bucket
    published = set(files) if bucket else None
    loaded, done, dropped, receipt = None, [], [], {}
    for _ in range(SETTLE_PASSES):
        wanted = course_load_files(file_type, results_dir, base, files)
        if wanted == loaded:
            break
        receipt = load_units(
            warehouse,
            file_type,
            base,
            results_dir,
            wanted,
            settings.log_tables,
            bucket,
            published,
        )
        done += receipt["loaded"]
        dropped += receipt["dropped"]
        loaded = wanted
    return {**receipt, "loaded": sorted(set(done)), "dropped": sorted(set(dropped))}


@contextlib.contextmanager
def warehouse_session(settings: WarehouseSettings, results_dir: str | Path):
    """An open warehouse: what was loaded lands when the block ends without an error (DuckDB: one
    transaction), and nothing of it otherwise."""
    warehouse = open_warehouse(settings, results_dir)
    success = False
    try:
        yield warehouse
        success = True
    finally:
        warehouse.close(success)


def load_course(
    settings: WarehouseSettings,
    file_type: str,
    base: str,
    results_dir: str | Path,
    files: list[str],
    receipt_path: str | Path,
) -> dict:
    """One course's files (many days of its log, say), in a session of their own; writes and
    returns the receipt. Its progress goes to the log every few seconds, with a final line."""
    progress = Progress("load", f"{file_type} {base}", file_bytes(results_dir, files), items="rows")
    with warehouse_session(settings, results_dir) as warehouse:
        receipt = {
            "warehouse": settings.kind,
            "file_type": file_type,
            **load_units(
                warehouse,
                file_type,
                base,
                results_dir,
                files,
                settings.log_tables,
                settings.bucket,
                progress=progress,
            ),
        }
    write_json(receipt_path, receipt)
    progress.finish()
    return receipt


def load_files(
    settings: WarehouseSettings,
    file_type: str,
    results_dir: str | Path,
    step_receipt: str | Path,
    receipt_path: str | Path,
) -> dict:
    """Load every course of one unit (a split day, a course's SQL tables, an email file) in one
    warehouse session; writes and returns the receipt. Its progress (the courses' file bytes
    done, and the rows loaded) goes to the log every few seconds, with a final line."""
    started = time.monotonic()
    by_course = unit_files(file_type, step_receipt)
    sizes = {base: file_bytes(results_dir, files) for base, files in by_course.items()}
    progress = Progress(
        "load_files", unit_name(file_type, step_receipt), sum(sizes.values()), items="rows"
    )
    courses = {}
    if by_course:
        with warehouse_session(settings, results_dir) as warehouse:

            def load(base: str) -> dict:
                receipt = load_settled(
                    warehouse, settings, file_type, results_dir, base, by_course[base]
                )
                progress.add(sizes[base], loaded_rows_of(receipt))
                log.info(
                    "%s (%s): %d unit(s) loaded, %d unchanged",
                    base,
                    file_type,
                    len(receipt["loaded"]),
                    receipt["unchanged"],
                )
                return receipt

            # BigQuery waits on its jobs: a day's courses go side by side. DuckDB has one writer.
            workers = BIGQUERY_COURSES_AT_ONCE if warehouse.kind == "bigquery" else 1
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                courses = dict(zip(by_course, pool.map(load, by_course)))
    receipt = {
        "warehouse": settings.kind,
        "file_type": file_type,
        "input": str(step_receipt),
        "courses": courses,
        "seconds": round(time.monotonic() - started, 3),
    }
    write_json(receipt_path, receipt)
    progress.finish()
    return receipt


def unit_name(file_type: str, step_receipt: str | Path) -> str:
    """A load's unit in its progress lines: `log edx/2021-01-03`, `sql {BASE}`, `email 2021-01-03`
    (from the path of the receipt of the step that wrote the files)."""
    path = Path(step_receipt)
    name = f"{path.parent.name}/{path.stem}" if file_type == "log" else path.stem
    return f"{file_type} {name}"


def loaded_rows_of(receipt: dict) -> int:
    """The rows a course's load receipt says it loaded (its unchanged units not counted)."""
    return sum(
        unit["rows"]
        for table in receipt["tables"].values()
        for unit in table["units"].values()
        if unit["loaded"]
    )


def loaded_rows(receipts: Iterable[str | Path]) -> dict[tuple[str, str, str], int]:
    """(course, dataset, table) -> rows, as load receipts given oldest first say: a unit loaded by
    several jobs (a log day, the newest SQL tables over the weeks) counts as its newest receipt
    says, and a table a later SQL load dropped is gone."""
    rows: dict[tuple[str, str, str], dict[str, int]] = {}
    for path in receipts:
        receipt = json.loads(Path(path).read_text())
        for course in receipt["courses"].values() if "courses" in receipt else [receipt]:
            base = course.get("course", "")
            for table, entry in course["tables"].items():
                units = rows.setdefault((base, entry["dataset"], table), {})
                units.update({key: unit["rows"] for key, unit in entry["units"].items()})
            for table in course.get("dropped", []):  # from the one dataset of a SQL or email load
                rows.pop((base, course["datasets"][0], table), None)
    return {key: sum(units.values()) for key, units in rows.items()}


# Beyond this many tables the summary adds up each table over the courses' datasets.
SUMMARY_TABLES = 100


def warehouse_summary(results_dir: str | Path, settings: WarehouseSettings) -> str:
    """What the load receipts say is in the warehouse: each table with its rows. A unit loaded by
    several jobs (a log day, the newest SQL tables over the weeks) counts as its newest receipt says."""
    receipts = sorted(
        # receipts/load/{file_type}/...: not receipts/load/log.json, the log loads' aggregate
        Path(results_dir, "receipts", "load").glob("*/**/*.json"),
        key=lambda path: path.stat().st_mtime_ns,
    )
    if not receipts:
        return ""
    where = settings.describe()
    counts = {(dataset, table): rows for (_, dataset, table), rows in loaded_rows(receipts).items()}
    if len(counts) <= SUMMARY_TABLES:
        lines = [
            f"  {dataset}.{table}: {count:,} rows"
            for (dataset, table), count in sorted(counts.items())
        ]
    else:  # an organisation: each table over its courses' datasets
        by_table: dict[str, list[int]] = {}
        for (_, table), count in counts.items():
            by_table.setdefault(table, []).append(count)
        lines = [
            f"  {table}: {sum(found):,} rows in {len(found):,} datasets"
            for table, found in sorted(by_table.items())
        ]
    return (
        f"Loaded into {where} ({len(counts):,} tables, {sum(counts.values()):,} rows):\n"
        + "\n".join(lines)
    )
