"""One course's files of one file type into the warehouse, incrementally: only the units (tables,
log days) whose files changed since the last load are replaced; the receipt lists every unit with
its rows."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from .atomic import write_json
from .load_plan import changed_units, plan_units
from .publish import gcs_uri

log = logging.getLogger("edxflow.load")

# Days of a partitioned table replaced together: a first load of years of logs goes through the
# staging table a month at a time, which bounds its size (memory, and one BigQuery job's URIs).
DAY_BATCH = 31

def description(base: str, file_type: str) -> str:
    if file_type == "log":
        return f"Tracking logs of {base}, one row per event (edxflow)."
    return f"Tables of {base}: its newest weekly SQL bundle and email opt-in (edxflow)."


def open_warehouse(settings: dict, results_dir: str | Path):
    """The warehouse the `warehouse` config section names."""
    if settings["kind"] == "duckdb":
        from .warehouse_duckdb import DuckDBWarehouse

        return DuckDBWarehouse(settings["path"], results_dir)
    from .google_cloud import bigquery_client
    from .warehouse_bigquery import BigQueryWarehouse

    client = bigquery_client(settings.get("project"), settings.get("location"), settings.get("service_account_file"))
    return BigQueryWarehouse(client, results_dir, settings.get("location"))


def load_units(warehouse, file_type: str, base: str, results_dir: str | Path, files: list[str],
               log_tables: str = "partitioned", bucket: str | None = None) -> dict:
    """Load what changed; returns the receipt. Raises before recording anything on a failure."""
    started = time.monotonic()
    units = plan_units(file_type, base, files, results_dir, log_tables)
    datasets = sorted({unit.dataset for unit in units})
    changed, recorded = [], {}
    for dataset in datasets:
        warehouse.ensure_dataset(dataset, description(base, file_type))
        state = warehouse.read_state(dataset)
        recorded.update({key: rows for key, (_, rows) in state.items()})
        changed += changed_units([unit for unit in units if unit.dataset == dataset],
                                 {key: fingerprint for key, (fingerprint, _) in state.items()})
    sources = {unit.key: [gcs_uri(bucket, file_type, name) for name in unit.files] if bucket else None
               for unit in changed}
    # Whole tables are replaced one by one; days of a partitioned table together, in one batch.
    counts = warehouse.replace_tables([unit for unit in changed if not unit.day], sources)
    days = [unit for unit in changed if unit.day]
    for start in range(0, len(days), DAY_BATCH):
        counts.update(warehouse.replace_days(days[start:start + DAY_BATCH], sources))
    loaded = [(unit, counts[unit.key]) for unit in changed]
    for unit, rows in loaded:
        log.info("%s.%s: %d row(s) from %d file(s)", unit.dataset, unit.key, rows, len(unit.files))
    for dataset in datasets:
        mine = [(unit, rows) for unit, rows in loaded if unit.dataset == dataset]
        if mine:
            warehouse.write_state(dataset, mine)
    loaded_keys = {unit.key for unit, _ in loaded}
    rows_by_key = {**recorded, **{unit.key: rows for unit, rows in loaded}}
    tables = {}
    for unit in units:
        entry = tables.setdefault(unit.table, {"dataset": unit.dataset, "rows": 0, "units": {}})
        rows = rows_by_key[unit.key]
        entry["rows"] += rows
        entry["units"][unit.key] = {"rows": rows, "files": unit.files, "loaded": unit.key in loaded_keys}
    log.info("%s (%s): %d of %d unit(s) loaded, %d unchanged", base, file_type, len(loaded), len(units),
             len(units) - len(loaded))
    return {"warehouse": warehouse.kind, "course": base, "file_type": file_type, "datasets": datasets,
            "tables": tables, "loaded": [unit.key for unit, _ in loaded],
            "unchanged": len(units) - len(loaded), "seconds": round(time.monotonic() - started, 3)}


def load_course(settings: dict, file_type: str, base: str, results_dir: str | Path, files: list[str],
                receipt_path: str | Path, bucket: str | None = None) -> dict:
    warehouse = open_warehouse(settings, results_dir)
    success = False
    try:
        receipt = load_units(warehouse, file_type, base, results_dir, files, settings.get("log_tables", "partitioned"),
                             bucket)
        success = True
    finally:
        warehouse.close(success)
    write_json(receipt_path, receipt)
    return receipt


def warehouse_summary(results_dir: str | Path, settings: dict) -> str:
    """What the load receipts say is in the warehouse: each table with its rows."""
    receipts = sorted(Path(results_dir, "receipts", "load").glob("*/*.json"))
    if not receipts:
        return ""
    where = settings["path"] if settings["kind"] == "duckdb" else f"BigQuery project {settings.get('project') or '(default)'}"
    lines, total = [], 0
    for path in receipts:
        receipt = json.loads(path.read_text())
        for table, entry in sorted(receipt["tables"].items()):
            lines.append(f"  {entry['dataset']}.{table}: {entry['rows']:,} rows")
            total += entry["rows"]
    return f"Loaded into {where} ({len(lines)} tables, {total:,} rows):\n" + "\n".join(lines)
