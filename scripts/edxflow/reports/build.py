"""One course's report tables, built in the warehouse in the order of what they read, each only when
what it is made of changed since its last build.

A table's fingerprint is a sha256 over its template's digest, the SQL it runs (rendered, and on
DuckDB transpiled) and the fingerprints of the tables it reads: a loaded table's from the load
state of its dataset (`read_state`: the file fingerprints of its units, a log's every day), a
report table's its own, from this build. A table whose fingerprint equals the one its last build
recorded, and that is still in the warehouse, is left alone (`unchanged`); `force` builds them all.

A template whose source tables the course lacks (a course without logs) is `skipped`, with the
reason, and so is every table that needs it. Each table built lands on its own (DuckDB: committed),
so a failure keeps the tables built before it; the receipt `receipts/report/{BASE}.json` is written
either way, and the next run goes on from the failed table.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from edxflow.core.atomic import write_json
from edxflow.core.courses import course_base_name
from edxflow.core.errors import UserError
from edxflow.reports.extra_args import parse_extra_args
from edxflow.reports.geoip import refresh_geoip
from edxflow.reports.graph import Template, build_order, load_templates, to_dot
from edxflow.reports.templates import render
from edxflow.reports.transpile import to_duckdb
from edxflow.reports.typed import SCHEMAS, schema_of, typed
from edxflow.reports.youtube import API_URL, refresh_cache
from edxflow.warehouse.interface import Warehouse
from edxflow.warehouse.load import description, warehouse_session
from edxflow.warehouse.plan import dataset_name
from edxflow.warehouse.settings import WarehouseSettings

log = logging.getLogger("edxflow.reports")

# The shipped templates, sql/reports/{table}.sql.
BUILTIN = Path(__file__).resolve().parents[3] / "sql" / "reports"
LOG_TABLE = "tracklog"
_SHARD = re.compile(r"^tracklog_\d{8}$")
_PARTITION = re.compile(r"^tracklog\$\d{8}$")


class ReportError(UserError):
    """A report table that could not be built, named with its course."""


def receipt_file(results_dir: str | Path, base: str) -> Path:
    return Path(results_dir, "receipts", "report", f"{base}.json")


def sha256(*parts) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_fingerprint(state: Mapping, table: str, log_tables: str) -> str | None:
    """A loaded table's fingerprint, from its dataset's load state: the sha256 of its units' entries
    (a table, or each day of the log: `tracklog$YYYYMMDD` partitions or `tracklog_YYYYMMDD` shards);
    None when the state has none (a table edxflow did not load)."""
    if table == LOG_TABLE:
        pattern = _SHARD if log_tables == "sharded" else _PARTITION
        units = sorted(key for key in state if pattern.match(key))
    else:
        units = [table] if table in state else []
    if not units:
        return None
    return sha256([[unit, state[unit][0]] for unit in units])


def log_shards(log_present: set[str]) -> list[str]:
    return sorted(name for name in log_present if _SHARD.match(name))


def has_log(log_present: set[str], log_tables: str) -> bool:
    if log_tables == "sharded":
        return bool(log_shards(log_present))
    return LOG_TABLE in log_present


def read_receipt(path: str | Path, kind: str) -> dict:
    """The previous build's receipt, its `tables` a mapping (empty when there is none, it is
    unreadable, or it was of another warehouse kind)."""
    try:
        receipt = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"tables": {}}
    if not isinstance(receipt, dict) or receipt.get("warehouse") != kind:
        return {"tables": {}}
    if not isinstance(receipt.get("tables"), dict):
        receipt["tables"] = {}
    return receipt


# person_course's per-course counts, for the receipt and the end of a run: numbers, no learner.
COUNTED = ("registered", "viewed", "explored", "certified", "completed")


def learner_counts(warehouse: Warehouse, dataset: str) -> dict[str, int]:
    """How many rows (learners) person_course has, and how many of them are registered, viewed,
    explored, certified and completed."""
    table = table_ref(warehouse, dataset, "person_course")
    sums = ", ".join(f"SUM(CASE WHEN {name} THEN 1 ELSE 0 END) AS {name}" for name in COUNTED)
    [row] = warehouse.select(f"SELECT COUNT(*) AS learners, {sums} FROM {table}")
    return {name: int(value or 0) for name, value in row.items()}


def qualified(warehouse: Warehouse, dataset: str) -> str:
    """A dataset as the templates name it: BigQuery's with its project."""
    if warehouse.kind == "bigquery":
        return f"{warehouse.client.project}.{dataset}"
    return dataset


def reports_dataset(org: str) -> str:
    """`{org}_reports`, the organisation's dataset: the org's code made a dataset name (a `-`
    becomes `_`)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", org) + "_reports"


def organisation_settings(key: str, section: Mapping | None, org: str | None) -> dict | None:
    """`reports.{key}` (youtube, geoip) for build_course, with the dataset of the organisation
    table it fills (None: not set)."""
    if not section:
        return None
    if not org:
        raise UserError(f"reports.{key} needs the organisation (org) to name its table")
    return {"dataset": reports_dataset(org), **section}


def youtube_settings(youtube: Mapping | None, org: str | None) -> dict | None:
    """The YouTube cache's settings for build_course from `reports.youtube` (None: not set)."""
    settings = organisation_settings("youtube", youtube, org)
    if settings is not None:
        settings["api_url"] = settings.get("api_url") or API_URL
    return settings


def geoip_settings(geoip: Mapping | None, org: str | None) -> dict | None:
    """The geolocation settings for build_course from `reports.geoip` (None: not set)."""
    return organisation_settings("geoip", geoip, org)


def course_youtube_ids(warehouse: Warehouse, latest: str) -> list[str]:
    """The YouTube ids of a course's videos (course_axis `data.ytid`, `speed:id`)."""
    sql = render(
        "SELECT DISTINCT REGEXP_EXTRACT(a.data.ytid, r'[^:]*$') AS id "
        "FROM {{ latest_dataset }}.course_axis AS a WHERE a.category = 'video'",
        name="the course's YouTube ids",
        course_id="",
        latest_dataset=qualified(warehouse, latest),
        log_dataset=qualified(warehouse, latest),
        tables=["course_axis"],
    )
    if warehouse.kind == "duckdb":
        sql = to_duckdb(sql, [])
    return sorted(row["id"] for row in warehouse.select(sql) if row["id"])


def column_descriptions(schema: list[dict] | None) -> dict[str, str]:
    """column -> description, from a report table's schema (none without one)."""
    return {
        field["name"]: field["description"] for field in schema or [] if field.get("description")
    }


def table_ref(warehouse: Warehouse, dataset: str, table: str) -> str:
    """A table as a query names it, quoted for the backend."""
    if warehouse.kind == "bigquery":
        return f"`{qualified(warehouse, dataset)}.{table}`"
    return f'"{dataset}"."{table}"'


def _names(text: str, word: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text) is not None


@contextlib.contextmanager
def naming_errors(course_id: str, table: str, template: Template):
    """A user error inside names the course, the table and its template (see named)."""
    try:
        yield
    except UserError as error:
        wrapped = named(error, course_id, table, template)
        if wrapped is error:
            raise
        raise wrapped from error


def named(error: UserError, course_id: str, table: str, template: Template) -> UserError:
    """The error, naming the course, the table and its template file: a new error of its kind with
    the ones its message lacks."""
    text = str(error)
    path = str(template.path)
    if course_id in text and _names(text, table) and path in text:
        return error
    where = f" ({path})" if path not in text else ""
    message = f"{course_id}: report table {table}{where}: {text}"
    try:
        wrapped = type(error)(message)
    except Exception:
        wrapped = ReportError(message)
    return wrapped if str(wrapped) == message else ReportError(message)


def rebuild_reason(
    before: dict, fingerprint: str, force: bool, unknown: list[str], missing_from: str | None
) -> str | None:
    """Why a table is built (None: it is unchanged): `before` is its previous receipt entry,
    `unknown` its inputs without a fingerprint, `missing_from` the dataset it is not in (None: it
    is there)."""
    if force:
        return "forced"
    if unknown:
        return f"no load state for {', '.join(unknown)}"
    if before.get("status") not in ("rebuilt", "unchanged"):
        return "not built before"
    if missing_from is not None:
        return f"not in {missing_from}"
    if before.get("fingerprint") != fingerprint:
        return "changed"
    return None


def build_course(
    warehouse: Warehouse,
    *,
    course_id: str,
    templates: Mapping[str, Template],
    wanted: str | list[str] = "all",
    receipt_path: str | Path,
    log_tables: str = "partitioned",
    extra_args=None,
    geo_table: str | None = None,
    youtube_table: str | None = None,
    youtube: Mapping | None = None,
    geoip: Mapping | None = None,
    force: bool = False,
) -> dict:
    """Build the wanted report tables of one course (and the report tables they read) in the open
    warehouse session, each only when its fingerprint changed (or `force`, or it is not in the
    warehouse); writes the receipt, also when a table fails (then raises that table's error, naming
    the course and the table), and returns it."""
    started = time.monotonic()
    base = course_base_name(course_id)
    latest, logs = dataset_name(base, "sql"), dataset_name(base, "log")
    extra = parse_extra_args(extra_args)
    order = build_order(templates, wanted)
    last = read_receipt(receipt_path, warehouse.kind)
    previous = last["tables"]

    warehouse.ensure_dataset(latest, description(base, "sql"))
    latest_present = set(warehouse.list_tables(latest))
    log_present = set(warehouse.list_tables(logs))
    states = {
        latest: warehouse.read_state(latest),
        logs: warehouse.read_state(logs) if log_present else {},
    }
    shards = log_shards(log_present) if log_tables == "sharded" else []
    # What the course has, as the templates see it: its loaded tables, its log, the report tables
    # not built in this run, and each report table of this run once it is built or unchanged.
    available = (latest_present | log_present) - set(order)
    if has_log(log_present, log_tables):
        available.add(LOG_TABLE)
    fingerprints: dict[str, str | None] = {}
    # With reports.youtube, the durations of the course's videos come from the organisation's
    # cache table, filled from the YouTube API first; a template that reads them is built again
    # when they change.
    youtube_inputs: dict[str, str] = {}
    if (
        youtube
        and not youtube_table
        and "course_axis" in available
        and any("youtube_table" in templates[name].text for name in order)
    ):
        ids = course_youtube_ids(warehouse, latest)
        durations = refresh_cache(
            warehouse,
            youtube["dataset"],
            ids,
            youtube["api_key_env"],
            youtube.get("api_url") or API_URL,
        )
        youtube_table = f"{qualified(warehouse, youtube['dataset'])}.youtube"
        youtube_inputs = {"youtube": sha256(sorted(durations.items()))}
    # With reports.geoip, the course's modal IPs are looked up once course_modal_ip is built,
    # before the first template that reads geo_table; it is built again when their places change.
    geo_inputs: dict[str, str] = {}
    geo = {"source": "geo_table", "table": geo_table} if geo_table else None

    def fingerprint_of(name: str) -> str | None:
        if name in fingerprints:
            return fingerprints[name]
        if name in templates:  # a report table built by an earlier run
            return previous.get(name, {}).get("fingerprint")
        dataset = logs if name == LOG_TABLE else latest
        return source_fingerprint(states[dataset], name, log_tables)

    entries: dict[str, dict] = {}
    current, counts = None, None
    try:
        for name in order:
            current = name
            template = templates[name]
            table_started = time.monotonic()
            missing = [read for read in template.reads if read not in available]
            if missing:
                reason = "; ".join(
                    f"{read} was skipped"
                    if read in entries
                    else f"{read} is not in {logs if read == LOG_TABLE else latest}"
                    for read in missing
                )
                entries[name] = {"status": "skipped", "reason": reason, "template": template.digest}
                log.info("%s %s: skipped (%s)", course_id, name, reason)
                continue
            inputs = {
                read: fingerprint_of(read)
                for read in [*template.reads, *(o for o in template.optional if o in available)]
            }
            if "youtube_table" in template.text:
                inputs.update(youtube_inputs)
            if "geo_table" in template.text:
                if geoip and geo is None and "course_modal_ip" in available:
                    with naming_errors(course_id, name, template):
                        geo_table, geo_inputs["geoip"] = refresh_geoip(
                            warehouse, geoip["dataset"], latest, base, geoip["database"]
                        )
                    geo = {"source": "geoip", "table": geo_table}
                inputs.update(geo_inputs)
            with naming_errors(course_id, name, template):
                sql = render(
                    template.text,
                    name=str(template.path),
                    course_id=course_id,
                    latest_dataset=qualified(warehouse, latest),
                    log_dataset=qualified(warehouse, logs),
                    tables=set(available),
                    geo_table=geo_table,
                    youtube_table=youtube_table,
                    extra_args=extra,
                    log_tables=log_tables,
                )
                if warehouse.kind == "duckdb":
                    sql = to_duckdb(sql, shards)
                schema = schema_of(template)
                if schema:
                    sql = typed(sql, schema, warehouse.kind)
            # An input without a fingerprint (a table edxflow did not load) may have changed: the
            # table is built every time, and so is what reads it.
            unknown = sorted(read for read, value in inputs.items() if value is None)
            fingerprint = sha256(
                template.digest, sql, inputs, uuid.uuid4().hex if unknown else None
            )
            before = previous.get(name, {})
            reason = rebuild_reason(
                before, fingerprint, force, unknown, None if name in latest_present else latest
            )
            entry = {
                "template": template.digest,
                "inputs": inputs,
                "fingerprint": fingerprint,
            }
            if reason is None:
                entries[name] = {
                    "status": "unchanged",
                    **entry,
                    "rows": before.get("rows"),
                    "seconds": round(time.monotonic() - table_started, 3),
                    "built_seconds": before.get("built_seconds", before.get("seconds")),
                }
                log.info("%s %s: unchanged", course_id, name)
            else:
                processed = warehouse.bytes_processed
                with naming_errors(course_id, name, template):
                    rows = warehouse.run_query(sql, latest, name, column_descriptions(schema))
                    warehouse.commit()
                seconds = round(time.monotonic() - table_started, 3)
                entries[name] = {
                    "status": "rebuilt",
                    "reason": reason,
                    **entry,
                    "rows": rows,
                    "seconds": seconds,
                    "built_seconds": seconds,
                }
                if processed is not None:
                    entries[name]["bytes_processed"] = warehouse.bytes_processed - processed
                latest_present.add(name)
                log.info("%s %s: %d row(s) (%s)", course_id, name, rows, reason)
            fingerprints[name] = fingerprint
            available.add(name)
        current = None
        counts = person_course_counts(warehouse, latest, entries, last)
    except BaseException as error:
        if current is not None:
            entries[current] = {
                "status": "failed",
                "error": str(error),
                "template": templates[current].digest,
            }
        raise
    finally:
        # written whether the build ends or fails: the next run goes on from it
        receipt = _receipt(
            course_id,
            base,
            warehouse,
            log_tables,
            extra,
            order,
            previous,
            entries,
            latest_present,
            started,
            counts,
            geo,
        )
        write_json(receipt_path, receipt)
    return receipt


def person_course_counts(
    warehouse: Warehouse, dataset: str, entries: dict[str, dict], last: dict
) -> dict | None:
    """person_course's counts (learner_counts): counted when it was built, the last build's when
    it is unchanged, none when this build did not reach it."""
    status = entries.get("person_course", {}).get("status")
    if status == "rebuilt" or (status == "unchanged" and "person_course" not in last):
        return learner_counts(warehouse, dataset)
    if status == "unchanged":
        return last["person_course"]
    return None


def _receipt(
    course_id: str,
    base: str,
    warehouse: Warehouse,
    log_tables: str,
    extra: dict,
    order: list[str],
    previous: dict,
    entries: dict[str, dict],
    latest_present: set[str],
    started: float,
    counts: dict | None,
    geo: dict | None = None,
) -> dict:
    """The receipt: this run's tables, and the earlier builds' entries of the report tables this
    run did not reach (other wanted tables, those after a failure) that are still there."""
    kept = {
        name: entry
        for name, entry in previous.items()
        if name not in entries and name in latest_present and "fingerprint" in entry
    }
    by_status: dict[str, list[str]] = {}
    for name in order:
        if name in entries:
            by_status.setdefault(entries[name]["status"], []).append(name)
    return {
        "course_id": course_id,
        "base": base,
        "warehouse": warehouse.kind,
        "latest_dataset": dataset_name(base, "sql"),
        "log_dataset": dataset_name(base, "log"),
        "log_tables": log_tables,
        "extra_args": extra,
        "order": order,
        **{status: by_status.get(status, []) for status in ("rebuilt", "unchanged", "skipped")},
        "failed": by_status.get("failed", []),
        "tables": {**kept, **entries},
        **({"person_course": counts} if counts else {}),
        # where person_course's geo columns came from (None: nowhere, they are NULL)
        "geo": geo,
        "seconds": round(time.monotonic() - started, 3),
        **(
            {"bytes_processed": warehouse.bytes_processed}
            if warehouse.bytes_processed is not None
            else {}
        ),
    }


def last_build(receipt: str | Path) -> Path:
    """Where a workflow job keeps its build state: `last_build/{name}` beside its receipt
    (`receipts/report/last_build/{BASE}.json`). Snakemake removes a job's outputs before the job
    runs (and after it fails), so the receipt itself cannot carry the fingerprints from one build
    to the next; this file, no rule's output, does, also after a failed table."""
    receipt = Path(receipt)
    return receipt.parent / "last_build" / receipt.name


def template_files(query_dir: str | Path | None = None) -> list[Path]:
    """Every file a build reads besides the warehouse: the shipped templates and schemas (the
    courses' and the organisation's), and the user's query_dir (templates and the schemas beside
    them)."""
    folders = [BUILTIN, SCHEMAS, BUILTIN / "organisation", SCHEMAS / "organisation"]
    folders += [Path(query_dir)] if query_dir else []
    return sorted(path for folder in folders for path in folder.glob("*.sql")) + sorted(
        path for folder in folders for path in folder.glob("*.json")
    )


def report_course(
    settings: WarehouseSettings,
    results_dir: str | Path,
    course_id: str,
    receipt_path: str | Path | None = None,
    *,
    tables: str | list[str] = "all",
    query_dir: str | Path | None = None,
    extra_args=None,
    geo_table: str | None = None,
    youtube_table: str | None = None,
    youtube: Mapping | None = None,
    geoip: Mapping | None = None,
    force: bool = False,
) -> dict:
    """The step: one course's report tables in a warehouse session of their own; writes the receipt
    (by default `{results_dir}/receipts/report/{BASE}.json`) and returns it."""
    templates = load_templates(BUILTIN, query_dir)
    extra = parse_extra_args(extra_args)
    build_order(templates, tables)  # an unknown table or a cycle, before the warehouse is opened
    if receipt_path is None:
        receipt_path = receipt_file(results_dir, course_base_name(course_id))
    with warehouse_session(settings, results_dir) as warehouse:
        receipt = build_course(
            warehouse,
            course_id=course_id,
            templates=templates,
            wanted=tables,
            receipt_path=receipt_path,
            log_tables=settings.log_tables,
            extra_args=extra,
            geo_table=geo_table,
            youtube_table=youtube_table,
            youtube=youtube,
            geoip=geoip,
            force=force,
        )
    log.info(
        "%s: %d report table(s) rebuilt, %d unchanged, %d skipped",
        course_id,
        len(receipt["rebuilt"]),
        len(receipt["unchanged"]),
        len(receipt["skipped"]),
    )
    return receipt


def graph(query_dir: str | Path | None = None) -> str:
    """The report tables and what they read, as Graphviz DOT."""
    return to_dot(load_templates(BUILTIN, query_dir))
