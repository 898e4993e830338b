"""Load one course's files of one file type into the warehouse (DuckDB or BigQuery); only the
tables and log days whose files changed since the last load are replaced.

    python scripts/load.py --results-dir results --file-type log --course MITx__6_002x__2T2021 \
        --receipt load.json [--duckdb results/warehouse.duckdb | --bigquery-project P] \
        [--log-tables partitioned|sharded] [--bucket B] FILE ...

FILE: paths relative to the results directory (as in manifests/courses/{file_type}.json). With
--bucket, BigQuery loads the published gs:// objects instead of the local files.
"""

from edxflow import cli
from edxflow.course_index import results_relative
from edxflow.load import load_course


def main(argv=None) -> int:
    parser = cli.course_files_parser(__doc__)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--duckdb", help="the DuckDB file")
    target.add_argument("--bigquery-project", help="the BigQuery project")
    parser.add_argument("--location")
    parser.add_argument("--service-account-file")
    parser.add_argument("--log-tables", choices=["partitioned", "sharded"], default="partitioned")
    parser.add_argument("--bucket", help="load from gs://BUCKET (BigQuery only; files published there)")
    args = parser.parse_args(argv)
    cli.configure_logging()
    settings = {"kind": "duckdb" if args.duckdb else "bigquery", "path": args.duckdb,
                "project": args.bigquery_project, "location": args.location,
                "service_account_file": args.service_account_file, "log_tables": args.log_tables}
    return cli.run(load_course, settings, args.file_type, args.course, args.results_dir, args.files, args.receipt,
                   args.bucket)


def from_snakemake(job):
    results_dir, files = results_relative(list(job.input.files), job.wildcards.file_type)
    return load_course(job.params.warehouse, job.wildcards.file_type, job.wildcards.base, results_dir, files,
                       job.output.receipt, job.params.bucket)


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
