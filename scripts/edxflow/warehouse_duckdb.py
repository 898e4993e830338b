"""The embedded warehouse: one DuckDB file holding BigQuery's datasets as schemas, with the same
tables and column types (RECORD as STRUCT, REPEATED as a list, TIMESTAMP as TIMESTAMPTZ).

A course's load runs in one transaction: it lands whole or not at all. DuckDB lets one process
write a file at a time, so a job that finds the file locked waits for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from pathlib import Path

import duckdb

from .load_plan import STATE_TABLE, Unit, WarehouseError

log = logging.getLogger("edxflow.warehouse")

_TYPES = {"STRING": "VARCHAR", "INTEGER": "BIGINT", "INT64": "BIGINT", "FLOAT": "DOUBLE", "FLOAT64": "DOUBLE",
          "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN", "TIMESTAMP": "TIMESTAMPTZ", "DATE": "DATE",
          "DATETIME": "TIMESTAMP", "TIME": "TIME", "NUMERIC": "DECIMAL(38, 9)", "BYTES": "BLOB", "JSON": "JSON"}
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
    columns = "{" + ", ".join(f"{_literal(field['name'])}: {_literal(column_type(field))}" for field in schema) + "}"
    return (f"read_json({files}, format = 'newline_delimited', compression = 'gzip', columns = {columns}, "
            "maximum_object_size = 268435456)")


class DuckDBWarehouse:
    kind = "duckdb"

    def __init__(self, path: str | Path, results_dir: str | Path):
        self.path = Path(path)
        self.results_dir = Path(results_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = self._connect()
        os.chmod(self.path, 0o600)  # the warehouse holds personal data, and so does what it spills
        spill = self.path.with_name(f".{self.path.name}.tmp")
        spill.mkdir(mode=0o700, exist_ok=True)
        self.connection.execute(f"SET temp_directory = {_literal(str(spill))}")
        self.connection.execute("BEGIN TRANSACTION")

    def _connect(self):
        waited, delay = 0.0, 0.2
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or waited >= LOCK_WAIT:
                    raise WarehouseError(f"cannot open the warehouse {self.path}: {error}") from None
            if waited == 0:
                log.info("%s is in use by another process: waiting for it", self.path)
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 5.0)

    def where(self, unit: Unit) -> str:
        return f"{quote(unit.dataset)}.{quote(unit.table)}"

    def ensure_dataset(self, dataset: str, description: str) -> None:
        self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(dataset)}")

    def read_state(self, dataset: str) -> dict[str, tuple[str, int]]:
        """unit -> (fingerprint, rows) of its last load."""
        self.connection.execute(f"CREATE TABLE IF NOT EXISTS {quote(dataset)}.{STATE_TABLE} "
                                "(unit VARCHAR PRIMARY KEY, fingerprint VARCHAR, rows BIGINT, loaded_at TIMESTAMPTZ)")
        rows = self.connection.execute(f"SELECT unit, fingerprint, rows FROM {quote(dataset)}.{STATE_TABLE}").fetchall()
        return {unit: (fingerprint, count) for unit, fingerprint, count in rows}

    def write_state(self, dataset: str, loaded: list[tuple[Unit, int]]) -> None:
        for unit, rows in loaded:
            self.connection.execute(
                f"INSERT OR REPLACE INTO {quote(dataset)}.{STATE_TABLE} VALUES (?, ?, ?, now())",
                [unit.key, unit.fingerprint, rows])

    def _paths(self, units: list[Unit]) -> list[Path]:
        return [self.results_dir / name for unit in units for name in unit.files]

    def _failed(self, units: list[Unit], error: Exception) -> WarehouseError:
        table = self.where(units[0])
        return WarehouseError(f"loading {', '.join(map(str, self._paths(units)))} into {table} of {self.path} "
                              f"failed: {str(error).strip()}")

    def replace_tables(self, units: list[Unit], sources: dict) -> dict[str, int]:
        """Replace each unit's table with its files; returns the rows loaded per unit."""
        counts = {}
        for unit in units:
            table, names = self.where(unit), ", ".join(quote(field["name"]) for field in unit.schema)
            try:
                self.connection.execute(f"CREATE OR REPLACE TABLE {table} ({columns_sql(unit.schema)})")
                counts[unit.key] = self.connection.execute(
                    f"INSERT INTO {table} SELECT {names} FROM {json_source(self._paths([unit]), unit.schema)}"
                ).fetchone()[0]
            except duckdb.Error as error:
                raise self._failed([unit], error) from None
        return counts

    def replace_days(self, units: list[Unit], sources: dict) -> dict[str, int]:
        """Replace days of one day-partitioned table (all units share it) with their files."""
        first = units[0]
        table, names = self.where(first), ", ".join(quote(field["name"]) for field in first.schema)
        days = {unit.day: unit for unit in units}
        listed = ", ".join(f"DATE '{day}'" for day in days)
        try:
            self.connection.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns_sql(first.schema)})")
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE staged AS SELECT {names}, "
                                    f"CAST(time AT TIME ZONE 'UTC' AS DATE) AS day "
                                    f"FROM {json_source(self._paths(units), first.schema)}")
            per_day = dict(self.connection.execute("SELECT day, count(*) FROM staged GROUP BY day").fetchall())
            outside = {str(day): count for day, count in per_day.items() if str(day) not in days}
            if outside:
                raise WarehouseError(
                    f"{', '.join(map(str, self._paths(units)))}: events of other days ({outside}) are in these "
                    f"files, so they cannot replace whole days of {table}: split the logs with "
                    "logs.dynamic_date: true, or set warehouse.log_tables: sharded")
            self.connection.execute(f"DELETE FROM {table} WHERE CAST(time AT TIME ZONE 'UTC' AS DATE) IN ({listed})")
            self.connection.execute(f"INSERT INTO {table} SELECT {names} FROM staged")
            self.connection.execute("DROP TABLE staged")
        except duckdb.Error as error:
            raise self._failed(units, error) from None
        return {unit.key: per_day.get(dt.date.fromisoformat(unit.day), 0) for unit in units}

    def close(self, success: bool) -> None:
        try:
            self.connection.execute("COMMIT" if success else "ROLLBACK")
        finally:
            self.connection.close()
