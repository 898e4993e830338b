"""BigQuery: `{BASE}_latest` and `{BASE}_logs` datasets, every table loaded with its schema as
NEWLINE_DELIMITED_JSON, from the published `gs://` objects when storage is GCS, else from the
local files (decompressed as they are sent). Jobs are waited for; a failed job's row errors fail
the load with the files and the table named.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import logging
import re
import time
import uuid
from pathlib import Path

from edxflow.warehouse.google_cloud import TIMEOUT, explain, retry
from edxflow.warehouse.interface import State, WarehouseError, check_days, is_internal
from edxflow.warehouse.plan import STATE_TABLE, Unit, local_paths

log = logging.getLogger("edxflow.warehouse")

JOB_TIMEOUT = 3600.0
JOB_ATTEMPTS = 4
# Job failures worth another try: BigQuery's transient reasons, and conflicts between concurrent
# jobs on the same dataset (table creation, DML), which the next attempt does not meet.
_TRANSIENT_REASONS = {"backendError", "internalError", "jobInternalError", "rateLimitExceeded"}
# (The emulator reports a conflict between concurrent transactions as "Failed to commit".)
_TRANSIENT_MESSAGE = re.compile(
    r"conflict|concurrent|try again|rate limit|failed to commit", re.IGNORECASE
)
_STATE_SCHEMA = [
    {"name": "unit", "type": "STRING", "mode": "REQUIRED"},
    {"name": "fingerprint", "type": "STRING", "mode": "REQUIRED"},
    {"name": "rows", "type": "INTEGER", "mode": "NULLABLE"},
    {"name": "loaded_at", "type": "TIMESTAMP", "mode": "NULLABLE"},
    {"name": "file_type", "type": "STRING", "mode": "NULLABLE"},
]
# The fingerprint of a state row recording that its unit's table was dropped.
_DROPPED = ""


class ConcatenatedGzip(io.RawIOBase):
    """Several gzip files read as one decompressed stream (one load job for a day's files).
    Not seekable, but it tells its position: the resumable upload of load_table_from_file
    calls tell() before and after each chunk."""

    def __init__(self, paths: list[Path]):
        self._paths = list(paths)
        self._current = None
        self._position = 0

    def tell(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self._current is None:
                if not self._paths:
                    return 0
                self._current = gzip.open(self._paths.pop(0), "rb")
            count = self._current.readinto(buffer)
            if count:
                self._position += count
                return count
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
        super().close()


def schema_fields(schema: list[dict]):
    from google.cloud import bigquery

    return [bigquery.SchemaField.from_api_repr(field) for field in schema]


class BigQueryWarehouse:
    """The Warehouse (interface.py) on BigQuery: a session is a client, each replacement a job."""

    kind = "bigquery"

    def __init__(self, client, results_dir: str | Path, location: str | None):
        self.client = client
        self.results_dir = Path(results_dir)
        self.location = location
        self.bytes_processed = 0

    def ref(self, dataset: str, table: str) -> str:
        return f"{self.client.project}.{dataset}.{table}"

    def _call(self, what: str, function, *args, **kwargs):
        """A request; one that fails on a conflict with a concurrent request (day loads of one course
        run side by side) is made again, up to JOB_ATTEMPTS times."""
        from google.api_core.exceptions import GoogleAPICallError

        for attempt in range(1, JOB_ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except GoogleAPICallError as error:
                if attempt == JOB_ATTEMPTS or not _TRANSIENT_MESSAGE.search(str(error)):
                    raise explain(error, what) from None
                log.warning(
                    "%s: %s; trying again (attempt %d of %d)",
                    what,
                    str(error).splitlines()[0][:200],
                    attempt + 1,
                    JOB_ATTEMPTS,
                )
                time.sleep(min(2.0**attempt, 30.0) / 4)
            except Exception as error:
                raise explain(error, what) from None

    def _request(self, what: str, function, *args, **kwargs):
        """A request with the client's retry and timeout, made (and failing) as _call makes it."""
        return self._call(what, function, *args, retry=retry(), timeout=TIMEOUT, **kwargs)

    def ensure_dataset(self, dataset: str, description: str) -> None:
        from google.cloud import bigquery

        spec = bigquery.Dataset(f"{self.client.project}.{dataset}")
        spec.location = self.location
        spec.description = description
        self._request(
            f"cannot create the dataset {spec.dataset_id} in project {self.client.project}",
            self.client.create_dataset,
            spec,
            exists_ok=True,
        )

    def read_state(self, dataset: str) -> State:
        from google.api_core.exceptions import NotFound

        try:
            rows = [
                dict(row)
                for row in self.client.list_rows(
                    self.ref(dataset, STATE_TABLE), retry=retry(), timeout=TIMEOUT
                )
            ]
        except NotFound:
            rows = []
        except Exception as error:
            raise explain(error, f"cannot read {self.ref(dataset, STATE_TABLE)}") from None
        newest = {}
        for row in sorted(rows, key=lambda row: str(row.get("loaded_at") or "")):
            newest[row["unit"]] = (row["fingerprint"], row["rows"], row.get("file_type"))
        return {unit: entry for unit, entry in newest.items() if entry[0] != _DROPPED}

    def write_state(
        self, dataset: str, file_type: str, loaded: list[tuple[Unit, int]], dropped: list[str]
    ) -> None:
        from google.cloud import bigquery

        # Appended, never rewritten: loads of one dataset run side by side (a course's days, its SQL
        # and email loads), and each adds its units' rows; the newest row of a unit is its state.
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        rows = [
            {
                "unit": unit.key,
                "fingerprint": unit.fingerprint,
                "rows": count,
                "loaded_at": now,
                "file_type": file_type,
            }
            for unit, count in loaded
        ]
        rows += [
            {
                "unit": key,
                "fingerprint": _DROPPED,
                "rows": 0,
                "loaded_at": now,
                "file_type": file_type,
            }
            for key in dropped
        ]
        # (A state table made before file_type was recorded gains the column.)
        config = bigquery.LoadJobConfig(
            schema=schema_fields(_STATE_SCHEMA),
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            schema_update_options=[bigquery.SchemaUpdateOption.ALLOW_FIELD_ADDITION],
        )
        where = self.ref(dataset, STATE_TABLE)

        def start():
            return self._call(
                f"cannot record the loads in {where}",
                self.client.load_table_from_json,
                rows,
                where,
                job_config=config,
            )

        self._wait(start(), where, ["(load bookkeeping)"], start)

    def drop_tables(self, dataset: str, tables: list[str]) -> None:
        for table in tables:
            where = self.ref(dataset, table)
            self._request(
                f"cannot drop {where}", self.client.delete_table, where, not_found_ok=True
            )

    def _ensure_partitioned(self, unit: Unit) -> None:
        from google.cloud import bigquery

        table = bigquery.Table(
            self.ref(unit.dataset, unit.table), schema=schema_fields(unit.schema)
        )
        table.time_partitioning = bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field="time"
        )
        where = self.ref(unit.dataset, unit.table)
        existing = self._request(
            f"cannot create {where}", self.client.create_table, table, exists_ok=True
        )
        partitioning = existing.time_partitioning
        if partitioning is None or partitioning.field != "time":
            raise WarehouseError(
                f"{where} exists but is not partitioned by day on `time`: drop it (the next load "
                "rebuilds it from every day), or set warehouse.log_tables: sharded"
            )

    def _start_load(self, unit: Unit, uris: list[str] | None, destination: str):
        """Start a WRITE_TRUNCATE load of the unit's files (gs:// objects, or the local files sent
        decompressed); returns (job, sources named in errors)."""
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(
            schema=schema_fields(unit.schema),
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            ignore_unknown_values=True,
            max_bad_records=0,
        )
        sources = uris or [str(path) for path in local_paths(self.results_dir, [unit])]
        what = f"cannot start the load of {', '.join(sources)} into {destination}"
        if uris:
            return self._request(
                what, self.client.load_table_from_uri, uris, destination, job_config=config
            ), sources
        with io.BufferedReader(
            ConcatenatedGzip(local_paths(self.results_dir, [unit])), 1 << 20
        ) as data:
            return self._call(
                what,
                self.client.load_table_from_file,
                data,
                destination,
                job_config=config,
                rewind=False,
                timeout=TIMEOUT,
            ), sources

    def replace_tables(self, units: list[Unit], sources: dict) -> dict[str, int]:
        """The jobs run side by side and are all waited for."""
        started = [
            (
                unit,
                *self._start_load(unit, sources.get(unit.key), self.ref(unit.dataset, unit.table)),
            )
            for unit in units
        ]
        counts = {}
        for unit, job, named in started:
            destination = self.ref(unit.dataset, unit.table)
            job = self._wait(
                job,
                destination,
                named,
                lambda unit=unit, destination=destination: self._start_load(
                    unit, sources.get(unit.key), destination
                )[0],
            )
            counts[unit.key] = int(job.output_rows or 0)
        return counts

    def replace_days(self, units: list[Unit], sources: dict) -> dict[str, int]:
        """All the files are loaded into a staging table, checked to hold only those days, then
        swapped in by one DELETE + INSERT transaction."""
        from google.cloud import bigquery

        first = units[0]
        self._ensure_partitioned(first)
        # A staging table of this load's own: loads of other days of the course may run meanwhile.
        target = self.ref(first.dataset, first.table)
        staging = self.ref(first.dataset, f"_edxflow_staging_{first.table}_{uuid.uuid4().hex[:12]}")
        batch = Unit(
            first.dataset,
            first.table,
            [name for unit in units for name in unit.files],
            first.schema,
        )
        uris = [uri for unit in units for uri in (sources.get(unit.key) or [])] or None
        job, named = self._start_load(batch, uris, staging)
        self._wait(
            job,
            f"{target} (through {staging})",
            named,
            lambda: self._start_load(batch, uris, staging)[0],
        )
        try:
            per_day = {
                row.day.isoformat(): row.n
                for row in self._query(
                    f"SELECT DATE(time) AS day, COUNT(*) AS n FROM `{staging}` GROUP BY day",
                    [],
                    target,
                )
            }
            counts = check_days(units, per_day, named, target)
            days = sorted(unit.day for unit in units)
            names = ", ".join(f"`{field['name']}`" for field in first.schema)
            self._query(
                f"BEGIN TRANSACTION; DELETE FROM `{target}` WHERE DATE(time) IN UNNEST(@days); "
                f"INSERT INTO `{target}` ({names}) SELECT {names} FROM `{staging}`; COMMIT TRANSACTION;",
                [bigquery.ArrayQueryParameter("days", "DATE", days)],
                target,
                named,
            )
        finally:
            try:
                self.client.delete_table(staging, not_found_ok=True, retry=retry(), timeout=TIMEOUT)
            except Exception as error:  # the load's own outcome matters more than the clean-up's
                log.warning(
                    "could not remove the staging table %s (%s); the next load replaces it",
                    staging,
                    error,
                )
        return counts

    def run_query(
        self, sql: str, dataset: str, table: str, descriptions: dict[str, str] | None = None
    ) -> int:
        """One query job writing its destination table WRITE_TRUNCATE: the table is replaced when
        the job succeeds, all at once."""
        from google.cloud import bigquery

        destination = self.ref(dataset, table)
        config = bigquery.QueryJobConfig(
            destination=destination,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
        )
        self._query_job(sql, config, f"a query into {destination}", destination)
        found = self._request(f"cannot read {destination}", self.client.get_table, destination)
        if descriptions:
            fields = [field.to_api_repr() for field in found.schema]
            for field in fields:
                if field["name"] in descriptions:
                    field["description"] = descriptions[field["name"]]
            found.schema = [bigquery.SchemaField.from_api_repr(field) for field in fields]
            self._request(
                f"cannot describe the columns of {destination}",
                self.client.update_table,
                found,
                ["schema"],
            )
        return int(found.num_rows or 0)

    def select(self, sql: str) -> list[dict]:
        job = self._query_job(sql, None, "a query", "a query's result")
        return [dict(row.items()) for row in job.result()]

    def list_tables(self, dataset: str) -> list[str]:
        from google.api_core.exceptions import NotFound

        where = f"{self.client.project}.{dataset}"
        try:
            found = [
                table.table_id
                for table in self.client.list_tables(where, retry=retry(), timeout=TIMEOUT)
            ]
        except NotFound:
            return []
        except Exception as error:
            raise explain(error, f"cannot list the tables of {where}") from None
        return sorted(name for name in found if not is_internal(name))

    def _query(self, sql: str, parameters: list, target: str, files: list[str] | None = None):
        """The rows of a query job; its failure names the files whose rows it moves, if any."""
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(query_parameters=parameters)
        return list(self._query_job(sql, config, f"a query on {target}", target, files).result())

    def _query_job(self, sql: str, config, what: str, target: str, files: list[str] | None = None):
        """The finished query job (`what` names it in the error of a job that cannot start)."""

        def start():
            return self._call(f"cannot start {what}", self.client.query, sql, job_config=config)

        job = self._wait(start(), target, files or [f"a query ({sql.split(' ', 1)[0]} …)"], start)
        self.bytes_processed += int(getattr(job, "total_bytes_processed", None) or 0)
        return job

    def _wait(self, job, destination: str, sources: list[str], restart):
        """The finished job; a job failing for a transient reason is run again (`restart()` starts
        a new one), up to JOB_ATTEMPTS times. Its errors fail the load, naming files and table."""
        for attempt in range(1, JOB_ATTEMPTS + 1):
            try:
                job.result(timeout=JOB_TIMEOUT, retry=retry())
                return job
            except Exception as error:
                messages = job_errors(job)
                if messages and attempt < JOB_ATTEMPTS and is_transient(job):
                    log.warning(
                        "%s: %s; trying again (attempt %d of %d)",
                        destination,
                        messages[0],
                        attempt + 1,
                        JOB_ATTEMPTS,
                    )
                    time.sleep(min(2.0**attempt, 30.0))
                    job = restart()
                    continue
                if not messages:
                    raise explain(
                        error, f"loading {', '.join(sources)} into {destination} failed"
                    ) from None
                shown = "; ".join(messages[:5]) + (
                    f" (and {len(messages) - 5} more)" if len(messages) > 5 else ""
                )
                raise WarehouseError(
                    f"loading {', '.join(sources)} into {destination} failed (job {job.job_id}): "
                    f"{shown}"
                ) from None

    def commit(self) -> None:
        pass  # every job has already replaced its table

    def close(self, success: bool) -> None:
        self.client.close()


def _error_entries(job) -> list[dict]:
    return list(getattr(job, "errors", None) or []) or (
        [job.error_result] if getattr(job, "error_result", None) else []
    )


def job_errors(job) -> list[str]:
    return [entry.get("message", str(entry)) for entry in _error_entries(job)]


def is_transient(job) -> bool:
    entries = _error_entries(job)
    return bool(entries) and all(
        entry.get("reason") in _TRANSIENT_REASONS
        or _TRANSIENT_MESSAGE.search(entry.get("message", ""))
        for entry in entries
    )
