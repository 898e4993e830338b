"""Build one course's report tables (simeon's `report`: person_course, video_axis, ...) in its
`{BASE}_latest` dataset from the SQL templates in sql/reports/ (and --query-dir), each only when its
template or what it reads changed since the last build; writes receipts/report/{BASE}.json.

    python scripts/report.py --results-dir results --course MITx/6.002x/2T2021 \
        [--duckdb results/warehouse.duckdb | --bigquery-project P] [--log-tables partitioned|sharded] \
        [--tables person_course,video_axis|all|all_with_optional] [--force] [--query-dir DIR] \
        [--extra-args 'suffix_start=20210101,n:i=3'] [--geo-table D.T] [--youtube-table D.T] \
        [--org ORG --geoip-database CITY.mmdb] [--org ORG --youtube-key-env VARIABLE]
    python scripts/report.py --graph [--query-dir DIR]     # the tables and what they read, as DOT
"""

import sys
from pathlib import Path

from edxflow.core import cli
from edxflow.core.atomic import write_json
from edxflow.reports.build import (
    geoip_settings,
    graph,
    last_build,
    report_course,
    youtube_settings,
)
from edxflow.reports.graph import ALL, ALL_WITH_OPTIONAL
from edxflow.warehouse.settings import WarehouseSettings, add_warehouse_arguments


def tables_argument(text: str) -> str | list[str]:
    """`all` (also for nothing), `all_with_optional`, or the names t1,t2."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if names in ([], [ALL]):
        return ALL
    return ALL_WITH_OPTIONAL if names == [ALL_WITH_OPTIONAL] else names


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    parser.add_argument("--graph", action="store_true", help="print the graph (DOT) and exit")
    parser.add_argument("--results-dir")
    parser.add_argument("--course", type=cli.course_id, help="the course, in any id form")
    parser.add_argument(
        "--tables",
        type=tables_argument,
        default="all",
        help="t1,t2: these report tables and those they read; all: every table but those "
        "built on request (ora_events, problem_check, time_on_*); all_with_optional: every table "
        "(default: all)",
    )
    parser.add_argument("--force", action="store_true", help="build every table again")
    parser.add_argument("--query-dir", help="your templates {table}.sql, replacing or adding")
    parser.add_argument("--extra-args", help="template variables: k1=v1,k2:i=2,k3:f=1.5")
    parser.add_argument("--geo-table", help="the IP geolocation table (dataset.table)")
    parser.add_argument("--youtube-table", help="the YouTube durations table (dataset.table)")
    parser.add_argument("--receipt", help="default: RESULTS_DIR/receipts/report/BASE.json")
    parser.add_argument(
        "--org", help="the organisation (its {org}_reports holds the geoip and youtube tables)"
    )
    parser.add_argument(
        "--youtube-key-env", help="the variable holding a YouTube Data API key: durations from it"
    )
    parser.add_argument("--youtube-api-url", help="the API's address (default: Google's)")
    parser.add_argument(
        "--geoip-database",
        help="a MaxMind City or Country .mmdb: the modal IPs looked up into {org}_reports.geoip",
    )
    add_warehouse_arguments(parser, required=False)  # not with --graph
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
    settings = WarehouseSettings.from_args(args)
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
        youtube=youtube_settings(
            args.youtube_key_env
            and {"api_key_env": args.youtube_key_env, "api_url": args.youtube_api_url},
            args.org,
        ),
        geoip=geoip_settings(args.geoip_database and {"database": args.geoip_database}, args.org),
        force=args.force,
    )


def from_snakemake(job):
    """A `report_course` job (workflow/rules/report.smk): params warehouse and reports (the config
    sections), course_id (from the newest bundle's index) and log_tables (warehouse.log_tables,
    when given); output receipt, `{results}/receipts/report/{base}.json`, a copy of the build
    state (see last_build) once every table is built."""
    reports = job.params.reports or {}
    warehouse = dict(job.params.warehouse)
    warehouse["log_tables"] = getattr(job.params, "log_tables", None) or warehouse.get("log_tables")
    receipt = report_course(
        WarehouseSettings.from_config(warehouse),
        str(Path(job.output.receipt).parents[2]),
        job.params.course_id,
        last_build(job.output.receipt),
        tables=reports.get("tables") or "all",
        query_dir=reports.get("query_dir"),
        extra_args=reports.get("extra_args"),
        geo_table=reports.get("geo_table"),
        youtube_table=reports.get("youtube_table"),
        youtube=youtube_settings(reports.get("youtube"), getattr(job.params, "org", None)),
        geoip=geoip_settings(reports.get("geoip"), getattr(job.params, "org", None)),
    )
    write_json(job.output.receipt, receipt)
    return receipt


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
