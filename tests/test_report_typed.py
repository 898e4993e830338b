"""Report tables are written in their schema's column types on DuckDB, not in the types DuckDB infers."""

import json

import duckdb

from edxflow.core.courses import course_base_name
from edxflow.reports.build import report_course
from edxflow.reports.typed import typed
from edxflow.warehouse.settings import WarehouseSettings

COURSE = "MITx/1.00x/2021"
TEMPLATE = """-- numbers: a float literal and an integer sum
-- reads:
SELECT 1.0 AS ratio, SUM(1) OVER () AS total, 'a' AS label
"""
SCHEMA = [
    {"name": "total", "type": "INTEGER", "mode": "NULLABLE", "description": "a count"},
    {"name": "ratio", "type": "FLOAT", "mode": "NULLABLE", "description": "a fraction"},
]


def column_types(path, table):
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [f"{course_base_name(COURSE)}_latest", table],
        ).fetchall()
    return dict(rows)


def build(tmp_path, name, schema=None):
    queries = tmp_path / "queries"
    queries.mkdir(exist_ok=True)
    (queries / f"{name}.sql").write_text(TEMPLATE)
    if schema:
        (queries / f"{name}.json").write_text(json.dumps(schema))
    settings = WarehouseSettings("duckdb", path=str(tmp_path / "warehouse.duckdb"))
    report_course(settings, tmp_path, COURSE, tables=[name], query_dir=queries)
    return column_types(tmp_path / "warehouse.duckdb", name)


def test_a_table_with_a_schema_has_its_columns_in_the_schemas_order_and_types(tmp_path):
    assert build(tmp_path, "numbers", SCHEMA) == {"total": "BIGINT", "ratio": "DOUBLE"}


def test_without_a_schema_the_types_are_duckdbs_own(tmp_path):
    # what the cast is for: DuckDB would write DECIMAL and HUGEINT where BigQuery writes FLOAT64
    # and INT64
    assert build(tmp_path, "numbers", None) == {
        "ratio": "DECIMAL(2,1)",
        "total": "HUGEINT",
        "label": "VARCHAR",
    }


def test_the_bigquery_form_casts_to_bigquerys_type_names():
    schema = [*SCHEMA, {"name": "ids", "type": "INTEGER", "mode": "REPEATED", "description": ""}]
    assert typed("SELECT 1", schema, "bigquery") == (
        "SELECT CAST(`total` AS INT64) AS `total`,\n  CAST(`ratio` AS FLOAT64) AS `ratio`,\n"
        "  `ids`\nFROM (\nSELECT 1\n) AS report_rows"
    )
