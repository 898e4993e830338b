"""The organisation's tables: each course's report tables brought together in one dataset,
`{org}_reports` (a DuckDB schema or a BigQuery dataset), one table per template of
sql/reports/organisation/.

An organisation template is written for one course, like a course's template (the same
variables and header); its table is the UNION ALL of it over every course whose report build has
what it reads, cast once to its schema's types. The courses and their tables' fingerprints come
from the courses' report receipts, so a table is built again only when one course's input changed
(or the set of courses did); the build state is kept beside the receipt as a course's is.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from edxflow.core.atomic import write_json
from edxflow.core.errors import UserError
from edxflow.reports.build import (
    BUILTIN,
    column_descriptions,
    qualified,
    read_receipt,
    reports_dataset,
    sha256,
    table_ref,
)
from edxflow.reports.graph import Template, load_templates
from edxflow.reports.templates import render
from edxflow.reports.transpile import to_duckdb
from edxflow.reports.typed import SCHEMAS, typed
from edxflow.warehouse.interface import INTERNAL_PREFIX, Warehouse
from edxflow.warehouse.load import warehouse_session
from edxflow.warehouse.plan import dataset_name
from edxflow.warehouse.settings import WarehouseSettings

log = logging.getLogger("edxflow.reports")

TEMPLATES = BUILTIN / "organisation"
ORG_SCHEMAS = SCHEMAS / "organisation"
BUILT = ("rebuilt", "unchanged")
# BigQuery refuses a query longer than 1,024k characters: a longer union is built in runs.
MAX_QUERY_CHARS = 800_000


class OrganisationError(UserError):
    """An organisation table that could not be built."""


def org_schema(name: str) -> list[dict] | None:
    """sql/schemas/reports/organisation/{name}.json: a schema, or the name of a report table whose
    schema it shares (person_course_all is person_course's rows)."""
    path = ORG_SCHEMAS / f"{name}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(schema, str):
        return json.loads((SCHEMAS / f"{schema}.json").read_text(encoding="utf-8"))
    return schema


def input_fingerprint(receipt: Mapping, table: str) -> str | None:
    """A table's fingerprint in a course's report receipt: a report table's own when it was built,
    a loaded table's as a report table recorded it among its inputs; None when neither."""
    entry = receipt["tables"].get(table)
    if entry is not None:
        return entry.get("fingerprint") if entry.get("status") in BUILT else None
    for other in receipt["tables"].values():
        if table in (other.get("inputs") or {}):
            return other["inputs"][table]
    return None


def course_sql(warehouse: Warehouse, template: Template, receipt: Mapping) -> str:
    """The template for one course, in the backend's dialect."""
    course_id, base = receipt["course_id"], receipt["base"]
    built = {name for name, entry in receipt["tables"].items() if entry.get("status") in BUILT}
    sql = render(
        template.text,
        name=str(template.path),
        course_id=course_id,
        latest_dataset=qualified(warehouse, dataset_name(base, "sql")),
        log_dataset=qualified(warehouse, dataset_name(base, "log")),
        tables=built | set(template.reads),
        extra_args=receipt.get("extra_args") or {},
        log_tables=receipt.get("log_tables") or "partitioned",
    )
    return to_duckdb(sql, []) if warehouse.kind == "duckdb" else sql


def union(parts: list[str]) -> str:
    return "\nUNION ALL\n".join(f"SELECT * FROM (\n{part}\n)" for part in parts)


def chunks(parts: list[str], max_chars: int) -> list[list[str]]:
    """The parts in runs whose union stays under max_chars (a part longer than that alone)."""
    runs: list[list[str]] = [[]]
    size = 0
    for part in parts:
        if runs[-1] and size + len(part) + 40 > max_chars:
            runs.append([])
            size = 0
        runs[-1].append(part)
        size += len(part) + 40
    return runs


def union_into(
    warehouse: Warehouse,
    dataset: str,
    name: str,
    parts: list[str],
    schema: list[dict] | None,
    max_chars: int,
) -> int:
    """`dataset.name` replaced by the union of the courses' parts, cast to the schema; returns its
    rows. A union longer than max_chars (BigQuery refuses queries over 1,024k characters) is built
    through staging tables of a run of courses each (`_edxflow_` names, dropped after)."""
    runs = chunks(parts, max_chars)
    staged = []
    if len(runs) > 1:
        for number, run in enumerate(runs):
            stage = f"{INTERNAL_PREFIX}{name}_{number}"
            warehouse.run_query(union(run), dataset, stage)
            staged.append(stage)
        parts = [f"SELECT * FROM {table_ref(warehouse, dataset, stage)}" for stage in staged]
    sql = union(parts)
    if schema:
        sql = typed(sql, schema, warehouse.kind)
    rows = warehouse.run_query(sql, dataset, name, column_descriptions(schema))
    if staged:
        warehouse.drop_tables(dataset, staged)
    warehouse.commit()
    return rows


def build_organisation(
    warehouse: Warehouse,
    *,
    org: str,
    receipts: Iterable[Mapping],
    receipt_path: str | Path,
    templates: Mapping[str, Template] | None = None,
    force: bool = False,
    max_chars: int = MAX_QUERY_CHARS,
) -> dict:
    """Build the organisation tables from the courses' report receipts in the open session;
    writes the receipt (also when a table fails) and returns it."""
    started = time.monotonic()
    templates = templates if templates is not None else load_templates(TEMPLATES)
    dataset = reports_dataset(org)
    courses = sorted(
        (r for r in receipts if r.get("warehouse") == warehouse.kind),
        key=lambda r: r["course_id"],
    )
    previous = read_receipt(receipt_path, warehouse.kind)["tables"]
    warehouse.ensure_dataset(dataset, f"{org}: the organisation's report tables (edxflow)")
    present = set(warehouse.list_tables(dataset))
    entries: dict[str, dict] = {}
    current = None
    try:
        for name, template in sorted(templates.items()):
            current = name
            table_started = time.monotonic()
            inputs = {
                r["base"]: {read: input_fingerprint(r, read) for read in template.reads}
                for r in courses
            }
            having = [r for r in courses if all(inputs[r["base"]].values())]
            if not having:
                entries[name] = {
                    "status": "skipped",
                    "reason": f"no course has {', '.join(template.reads)} built",
                    "template": template.digest,
                }
                log.info("%s %s: skipped (%s)", org, name, entries[name]["reason"])
                continue
            parts = [course_sql(warehouse, template, r) for r in having]
            schema = org_schema(name)
            used = {r["base"]: inputs[r["base"]] for r in having}
            fingerprint = sha256(template.digest, parts, schema, used)
            before = previous.get(name, {})
            entry = {
                "template": template.digest,
                "courses": len(having),
                "fingerprint": fingerprint,
            }
            if (
                not force
                and name in present
                and before.get("status") in BUILT
                and before.get("fingerprint") == fingerprint
            ):
                entries[name] = {"status": "unchanged", **entry, "rows": before.get("rows")}
                log.info("%s %s: unchanged", org, name)
                continue
            try:
                rows = union_into(warehouse, dataset, name, parts, schema, max_chars)
            except UserError as error:
                raise OrganisationError(
                    f"{dataset}.{name} ({template.path}), over {len(having)} course(s): {error}"
                ) from error
            entries[name] = {
                "status": "rebuilt",
                **entry,
                "rows": rows,
                "seconds": round(time.monotonic() - table_started, 3),
            }
            log.info("%s %s: %d row(s) from %d course(s)", org, name, rows, len(having))
        current = None
    except BaseException as error:
        if current is not None:
            entries[current] = {"status": "failed", "error": str(error)}
        raise
    finally:
        receipt = {
            "org": org,
            "warehouse": warehouse.kind,
            "dataset": dataset,
            "courses": len(courses),
            **{
                status: [n for n, e in sorted(entries.items()) if e["status"] == status]
                for status in ("rebuilt", "unchanged", "skipped", "failed")
            },
            "tables": entries,
            "seconds": round(time.monotonic() - started, 3),
        }
        write_json(receipt_path, receipt)
    return receipt


def course_receipts(paths: Iterable[str | Path]) -> list[dict]:
    """The courses' report receipts (each a finished build's)."""
    return [json.loads(Path(path).read_text(encoding="utf-8")) for path in paths]


def report_organisation(
    settings: WarehouseSettings,
    results_dir: str | Path,
    org: str,
    course_receipt_paths: Iterable[str | Path],
    receipt_path: str | Path,
    force: bool = False,
) -> dict:
    """The step: the organisation tables in a warehouse session of their own."""
    receipts = course_receipts(course_receipt_paths)
    with warehouse_session(settings, results_dir) as warehouse:
        return build_organisation(
            warehouse, org=org, receipts=receipts, receipt_path=receipt_path, force=force
        )
