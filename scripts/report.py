"""Build one course's report tables (simeon's `report`: person_course, video_axis, ...) in its
`{BASE}_latest` dataset from the SQL templates in sql/reports/ (and --query-dir), each only when its
template or what it reads changed since the last build; writes receipts/report/{BASE}.json.

    python scripts/report.py --results-dir results --course MITx/6.002x/2T2021 \
        [--duckdb results/warehouse.duckdb | --bigquery-project P] [--log-tables partitioned|sharded] \
        [--tables person_course,video_axis] [--force] [--query-dir DIR] \
        [--extra-args 'suffix_start=20210101,n:i=3'] [--geo-table D.T] [--youtube-table D.T]
    python scripts/report.py --graph [--query-dir DIR]     # the tables and what they read, as DOT
"""

import sys

from edxflow.core import cli
from edxflow.reports.build import graph, report_course
from edxflow.warehouse.settings import WarehouseSettings


def tables_argument(text: str) -> str | list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    return "all" if names in ([], ["all"]) else names


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    parser.add_argument("--graph", action="store_true", help="print the graph (DOT) and exit")
    parser.add_argument("--results-dir")
    parser.add_argument("--course", type=cli.course_id, help="the course, in any id form")
    parser.add_argument(
        "--tables",
        type=tables_argument,
        default="all",
        help="t1,t2: these report tables and those they read (default: all)",
    )
    parser.add_argument("--force", action="store_true", help="build every table again")
    parser.add_argument("--query-dir", help="your templates {table}.sql, replacing or adding")
    parser.add_argument("--extra-args", help="template variables: k1=v1,k2:i=2,k3:f=1.5")
    parser.add_argument("--geo-table", help="the IP geolocation table (dataset.table)")
    parser.add_argument("--youtube-table", help="the YouTube durations table (dataset.table)")
    parser.add_argument("--receipt", help="default: RESULTS_DIR/receipts/report/BASE.json")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--duckdb", help="the DuckDB file")
    target.add_argument("--bigquery-project", help="the BigQuery project")
    parser.add_argument("--location")
    parser.add_argument("--service-account-file")
    parser.add_argument("--log-tables", choices=["partitioned", "sharded"], default="partitioned")
    args = cli.parse(parser, argv)
    if args.graph:
        return cli.run(lambda: sys.stdout.write(graph(args.query_dir)))
    missing = [
        option
        for option, value in (("--results-dir", args.results_dir), ("--course", args.course))
        if not value
    ]
    if not (args.duckdb or args.bigquery_project):
        missing.append("--duckdb or --bigquery-project")
    if missing:
        parser.error(f"the following arguments are required: {', '.join(missing)}")
    settings = WarehouseSettings.from_config(
        {
            "kind": "duckdb" if args.duckdb else "bigquery",
            "path": args.duckdb,
            "project": args.bigquery_project,
            "location": args.location,
            "service_account_file": args.service_account_file,
            "log_tables": args.log_tables,
        }
    )
    return cli.run(
        report_course,
        settings,
        args.results_dir,
        args.course,
        args.receipt,
        tables=args.tables,
        query_dir=args.query_dir,
        extra_args=args.extra_args,
        geo_table=args.geo_table,
        youtube_table=args.youtube_table,
        force=args.force,
    )


def from_snakemake(job):
    """A `report_course` job: params warehouse (the config section), reports (the config section),
    course_id and results_dir; output receipt (`{results}/receipts/report/{base}.json`)."""
    reports = job.params.reports or {}
    results_dir = getattr(job.params, "results_dir", None)
    if not results_dir:
        from pathlib import Path

        results_dir = str(Path(job.output.receipt).parents[2])
    return report_course(
        WarehouseSettings.from_config(job.params.warehouse),
        results_dir,
        job.params.course_id,
        job.output.receipt,
        tables=reports.get("tables") or "all",
        query_dir=reports.get("query_dir"),
        extra_args=reports.get("extra_args"),
        geo_table=reports.get("geo_table"),
        youtube_table=reports.get("youtube_table"),
        force=bool(reports.get("force", False)),
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
