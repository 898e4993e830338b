"""The warehouse a load writes to, as one frozen object: built once, from the `warehouse` config
section and the load bucket (the rule's params, or load_files.py's command line), and passed to
load.py's functions in place of the config's dict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WarehouseSettings:
    kind: str  # duckdb or bigquery
    path: str | None = None  # the DuckDB file
    project: str | None = None  # BigQuery: None takes the credentials' project
    location: str | None = None  # BigQuery: where datasets are created
    service_account_file: str | None = None  # BigQuery: None uses the default credentials
    log_tables: str = "partitioned"  # or sharded: tracklog_YYYYMMDD tables
    # BigQuery: the bucket the files were published to, loaded from gs:// (None: the local files)
    bucket: str | None = None

    @classmethod
    def from_config(
        cls, warehouse: Mapping[str, Any], bucket: str | None = None
    ) -> WarehouseSettings:
        """From a `warehouse` config section (a key it lacks takes its default), plus the bucket."""
        return cls(
            kind=warehouse["kind"],
            path=warehouse.get("path"),
            project=warehouse.get("project"),
            location=warehouse.get("location"),
            service_account_file=warehouse.get("service_account_file"),
            log_tables=warehouse.get("log_tables") or "partitioned",
            bucket=bucket,
        )

    @classmethod
    def from_args(cls, args, bucket: str | None = None) -> WarehouseSettings:
        """From a step's command line (add_warehouse_arguments)."""
        return cls.from_config(
            {
                "kind": "duckdb" if args.duckdb else "bigquery",
                "path": args.duckdb,
                "project": args.bigquery_project,
                "location": args.location,
                "service_account_file": args.service_account_file,
                "log_tables": getattr(args, "log_tables", None),
            },
            bucket,
        )

    def describe(self) -> str:
        """Where the tables are, as the load summary says it."""
        if self.kind == "duckdb":
            return str(self.path)
        return f"BigQuery project {self.project or '(default)'}"


def add_warehouse_arguments(parser, required: bool = True) -> None:
    """A step's warehouse options: --duckdb FILE or --bigquery-project P (with --location,
    --service-account-file), and --log-tables; WarehouseSettings.from_args reads them."""
    target = parser.add_mutually_exclusive_group(required=required)
    target.add_argument("--duckdb", help="the DuckDB file")
    target.add_argument("--bigquery-project", help="the BigQuery project")
    parser.add_argument("--location")
    parser.add_argument("--service-account-file")
    parser.add_argument("--log-tables", choices=["partitioned", "sharded"], default="partitioned")
