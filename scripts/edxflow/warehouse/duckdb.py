"""The embedded warehouse: one DuckDB file holding BigQuery's datasets as schemas, with the same
tables and column types (RECORD as STRUCT, REPEATED as a list, TIMESTAMP as TIMESTAMPTZ).

A course's load runs in one transaction: it lands whole or not at all (a full disk included).
DuckDB lets one process write a file at a time, so a job that finds the file locked waits for it.
A session reads and writes timestamps in UTC, as BigQuery does, whatever the local time zone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path

import duckdb

from edxflow.warehouse.interface import State, WarehouseError, check_days, is_internal
from edxflow.warehouse.plan import STATE_TABLE, Unit, local_paths

log = logging.getLogger("edxflow.warehouse")

_TYPES = {
    "STRING": "VARCHAR",
    "INTEGER": "BIGINT",
    "INT64": "BIGINT",
    "FLOAT": "DOUBLE",
    "FLOAT64": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATE": "DATE",
    "DATETIME": "TIMESTAMP",
    "TIME": "TIME",
    "NUMERIC": "DECIMAL(38, 9)",
    "BYTES": "BLOB",
    "JSON": "JSON",
}
LOCK_WAIT = 600.0


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def column_type(field: dict) -> str:
    kind = field["type"].upper()
    if kind in ("RECORD", "STRUCT"):
        inner = ", ".join(f"{quote(sub['name'])} {column_type(sub)}" for sub in field["fields"])
        text = f"STRUCT({inner})"
    else:
        text = _TYPES[kind]
    return text + "[]" if field.get("mode", "NULLABLE").upper() == "REPEATED" else text


def columns_sql(schema: list[dict]) -> str:
    return ", ".join(f"{quote(field['name'])} {column_type(field)}" for field in schema)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_source(paths: list[Path], schema: list[dict]) -> str:
    """A read_json() call that reads gzip JSON lines as the schema's typed columns; fields the
    schema does not name are ignored, a line that is not JSON fails the load."""
    files = "[" + ", ".join(_literal(str(path)) for path in paths) + "]"
    columns = (
        "{"
        + ", ".join(
            f"{_literal(field['name'])}: {_literal(column_type(field))}" for field in schema
        )
        + "}"
    )
    return (
        f"read_json({files}, format = 'newline_delimited', compression = 'gzip', columns = {columns}, "
        "maximum_object_size = 268435456)"
    )


class DuckDBWarehouse:
    """The Warehouse (interface.py) in a DuckDB file, a session being one transaction."""

    kind = "duckdb"
    bytes_processed = None

    def __init__(self, path: str | Path, results_dir: str | Path):
        self.path = Path(path)
        self.results_dir = Path(results_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The warehouse holds personal data, and so do its WAL (made again after each checkpoint) and
        # what it spills: owner-only from their creation, for as long as the session writes.
        self._umask = os.umask(0o077)
        try:
            self.connection = self._connect()
            os.chmod(self.path, 0o600)  # a warehouse made by an earlier version
            spill = self.path.with_name(f".{self.path.name}.tmp")
            spill.mkdir(mode=0o700, exist_ok=True)
            self._execute(f"SET temp_directory = {_literal(str(spill))}", "opening")
            self._execute(
                "SET TimeZone = 'UTC'", "opening"
            )  # a naive timestamp, and a day, are UTC's
            self._execute("BEGIN TRANSACTION", "opening")
        except BaseException:
            os.umask(self._umask)
            raise

    def _connect(self):
        waited, delay = 0.0, 0.2
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or waited >= LOCK_WAIT:
                    raise self._error(error, "opening") from None
            if waited == 0:
                log.info("%s is in use by another process: waiting for it", self.path)
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 5.0)

    def _error(self, error: Exception, doing: str) -> WarehouseError:
        """`doing` what failed, e.g. "loading F into T"."""
        text = str(error).strip()
        if "no space left" in text.lower():
            return WarehouseError(
                f"no space left on the device of the warehouse {self.path} when {doing} "
                f"({text.splitlines()[0]}): free space there and run again; the warehouse holds "
                "what it held before this load"
            )
        return WarehouseError(f"{doing} failed (warehouse {self.path}): {text}")

    def _execute(self, sql: str, doing: str, parameters: list | None = None):
        try:
            return self.connection.execute(sql, parameters)
        except duckdb.Error as error:
            raise self._error(error, doing) from None

    def where(self, unit: Unit) -> str:
        return f"{quote(unit.dataset)}.{quote(unit.table)}"

    def ensure_dataset(self, dataset: str, description: str) -> None:
        self._execute(
            f"CREATE SCHEMA IF NOT EXISTS {quote(dataset)}", f"creating the schema {dataset}"
        )

    def read_state(self, dataset: str) -> State:
        state, doing = f"{quote(dataset)}.{STATE_TABLE}", f"reading {dataset}.{STATE_TABLE}"
        self._execute(
            f"CREATE TABLE IF NOT EXISTS {state} (unit VARCHAR PRIMARY KEY, fingerprint VARCHAR, "
            "rows BIGINT, loaded_at TIMESTAMPTZ, file_type VARCHAR)",
            doing,
        )
        self._execute(f"ALTER TABLE {state} ADD COLUMN IF NOT EXISTS file_type VARCHAR", doing)
        rows = self._execute(
            f"SELECT unit, fingerprint, rows, file_type FROM {state}", doing
        ).fetchall()
        return {
            unit: (fingerprint, count, file_type) for unit, fingerprint, count, file_type in rows
        }

    def write_state(
        self, dataset: str, file_type: str, loaded: list[tuple[Unit, int]], dropped: list[str]
    ) -> None:
        state, doing = (
            f"{quote(dataset)}.{STATE_TABLE}",
            f"recording the loads in {dataset}.{STATE_TABLE}",
        )
        for unit, rows in loaded:
            self._execute(
                f"INSERT OR REPLACE INTO {state} (unit, fingerprint, rows, loaded_at, file_type) "
                "VALUES (?, ?, ?, now(), ?)",
                doing,
                [unit.key, unit.fingerprint, rows, file_type],
            )
        for key in dropped:
            self._execute(f"DELETE FROM {state} WHERE unit = ?", doing, [key])

    def drop_tables(self, dataset: str, tables: list[str]) -> None:
        for table in tables:
            self._execute(
                f"DROP TABLE IF EXISTS {quote(dataset)}.{quote(table)}",
                f"dropping {dataset}.{table}",
            )

    def _paths(self, units: list[Unit]) -> list[Path]:
        return local_paths(self.results_dir, units)

    def _failed(self, units: list[Unit], error: Exception) -> WarehouseError:
        return self._error(
            error, f"loading {', '.join(map(str, self._paths(units)))} into {self.where(units[0])}"
        )

    def replace_tables(self, units: list[Unit], sources: dict) -> dict[str, int]:
        counts = {}
        for unit in units:
            table, names = (
                self.where(unit),
                ", ".join(quote(field["name"]) for field in unit.schema),
            )
            try:
                self.connection.execute(
                    f"CREATE OR REPLACE TABLE {table} ({columns_sql(unit.schema)})"
                )
                counts[unit.key] = self.connection.execute(
                    f"INSERT INTO {table} SELECT {names} FROM {json_source(self._paths([unit]), unit.schema)}"
                ).fetchone()[0]
            except duckdb.Error as error:
                raise self._failed([unit], error) from None
        return counts

    def replace_days(self, units: list[Unit], sources: dict) -> dict[str, int]:
        first = units[0]
        table, names = self.where(first), ", ".join(quote(field["name"]) for field in first.schema)
        days = {unit.day: unit for unit in units}
        listed = ", ".join(f"DATE '{day}'" for day in days)
        try:
            self.connection.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ({columns_sql(first.schema)})"
            )
            self.connection.execute(
                f"CREATE OR REPLACE TEMP TABLE staged AS SELECT {names}, "
                f"CAST(time AT TIME ZONE 'UTC' AS DATE) AS day "
                f"FROM {json_source(self._paths(units), first.schema)}"
            )
            per_day = self.connection.execute(
                "SELECT day, count(*) FROM staged GROUP BY day"
            ).fetchall()
            counts = check_days(
                units,
                {str(day): count for day, count in per_day},
                list(map(str, self._paths(units))),
                table,
            )
            self.connection.execute(
                f"DELETE FROM {table} WHERE CAST(time AT TIME ZONE 'UTC' AS DATE) IN ({listed})"
            )
            self.connection.execute(f"INSERT INTO {table} SELECT {names} FROM staged")
            self.connection.execute("DROP TABLE staged")
        except duckdb.Error as error:
            raise self._failed(units, error) from None
        return counts

    def run_query(
        self, sql: str, dataset: str, table: str, descriptions: dict[str, str] | None = None
    ) -> int:
        where, doing = f"{quote(dataset)}.{quote(table)}", f"running a query into {dataset}.{table}"
        self._execute(f"CREATE OR REPLACE TABLE {where} AS {sql}", doing)
        columns = {row[0] for row in self._execute(f"DESCRIBE {where}", doing).fetchall()}
        for column, text in (descriptions or {}).items():
            if column in columns:
                self._execute(
                    f"COMMENT ON COLUMN {where}.{quote(column)} IS {_literal(text)}", doing
                )
        return self._execute(f"SELECT count(*) FROM {where}", doing).fetchone()[0]

    def select(self, sql: str) -> list[dict]:
        cursor = self._execute(sql, "running a query")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def list_tables(self, dataset: str) -> list[str]:
        rows = self._execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = ?",
            f"listing the tables of {dataset}",
            [dataset],
        ).fetchall()
        return sorted(name for (name,) in rows if not is_internal(name))

    def commit(self) -> None:
        self._execute("COMMIT", "committing")
        self._execute("BEGIN TRANSACTION", "opening")

    def close(self, success: bool) -> None:
        try:
            if success:
                self._execute("COMMIT", "committing the load")
            else:
                with contextlib.suppress(
                    duckdb.Error
                ):  # what failed may have ended it; none of it is written
                    self.connection.execute("ROLLBACK")
        finally:
            try:
                self.connection.close()
            finally:
                os.umask(self._umask)
