"""A report table's columns in the types of its schema, whatever types the engine inferred.

DuckDB types `1.0` as DECIMAL and an integer SUM as HUGEINT, where BigQuery gives FLOAT64 and INT64:
the query is wrapped in a SELECT that casts each column to its schema's type, in the schema's
order, so both backends write the same column types (simeon's). A template without a schema (a
user's own table) is written as its query gives it.
"""

from __future__ import annotations

import json
from pathlib import Path

from edxflow.reports.graph import Template
from edxflow.warehouse.duckdb import column_type, quote

# The shipped schemas, sql/schemas/reports/{table}.json.
SCHEMAS = Path(__file__).resolve().parents[3] / "sql" / "schemas" / "reports"
_BIGQUERY = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}


def schema_of(template: Template) -> list[dict] | None:
    """The schema beside a user's template (`{query_dir}/{table}.json`), else the shipped one of
    that table, else None."""
    for path in (template.path.with_suffix(".json"), SCHEMAS / f"{template.name}.json"):
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    return None


def _bigquery_type(field: dict) -> str | None:
    if field.get("mode", "NULLABLE").upper() == "REPEATED" or field["type"].upper() in (
        "RECORD",
        "STRUCT",
    ):
        return None
    kind = field["type"].upper()
    return _BIGQUERY.get(kind, kind)


def typed(sql: str, schema: list[dict], kind: str) -> str:
    """`sql` (in the backend's dialect) with its columns cast to `schema`'s types."""
    columns = []
    for field in schema:
        if kind == "duckdb":
            name = quote(field["name"])
            columns.append(f"CAST({name} AS {column_type(field)}) AS {name}")
        else:
            name = f"`{field['name']}`"
            cast = _bigquery_type(field)
            columns.append(f"CAST({name} AS {cast}) AS {name}" if cast else name)
    return "SELECT " + ",\n  ".join(columns) + f"\nFROM (\n{sql}\n) AS report_rows"
