"""Load one unit's per-course files into the warehouse (DuckDB or BigQuery): a split daily log (every
course with events that day), a course's newest SQL tables, or an email opt-in file. Only the tables
and log days whose files changed since their last load are replaced.

    python scripts/load_files.py --results-dir results --file-type log \
        --input results/receipts/split_tracking_log/edx/2021-01-03.json --receipt load.json \
        [--duckdb results/warehouse.duckdb | --bigquery-project P] [--log-tables partitioned|sharded] [--bucket B]

INPUT is the receipt of the step that wrote the files (split_tracking_log, sql_course, email_opt_in).
With --bucket, BigQuery loads the published gs:// objects instead of the local files.
"""

from edxflow.core import cli
from edxflow.warehouse.load import load_files
from edxflow.warehouse.settings import WarehouseSettings, add_warehouse_arguments


def main(argv=None) -> int:
    parser = cli.unit_parser(__doc__)
    add_warehouse_arguments(parser)
    parser.add_argument(
        "--bucket", help="load from gs://BUCKET (BigQuery only; files published there)"
    )
    args = cli.parse(parser, argv)
    settings = WarehouseSettings.from_args(args, args.bucket)
    return cli.run(load_files, settings, *cli.unit_args(args))


def from_snakemake(job):
    return load_files(
        WarehouseSettings.from_config(job.params.warehouse, job.params.bucket),
        *cli.unit_job_args(job),
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
