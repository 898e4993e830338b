"""Upload one unit's per-course files to Google Cloud Storage (simeon's layout): a split daily log,
a course's newest SQL tables, or an email opt-in file. Objects already there with the same MD5 are
not uploaded again.

    python scripts/publish_files.py --results-dir results --file-type log \
        --input results/receipts/split_tracking_log/edx/2021-01-03.json --bucket my-bucket \
        --receipt publish.json [--project P] [--service-account-file KEY.json]

INPUT is the receipt of the step that wrote the files (split_tracking_log, sql_course, email_opt_in).
"""

from edxflow.core import cli
from edxflow.warehouse.google_cloud import storage_client
from edxflow.warehouse.publish import publish_unit


def publish(
    storage: dict, file_type: str, results_dir: str, step_receipt: str, receipt: str
) -> dict:
    client = storage_client(storage.get("project"), storage.get("service_account_file"))
    return publish_unit(client, storage["bucket"], file_type, results_dir, step_receipt, receipt)


def main(argv=None) -> int:
    parser = cli.unit_parser(__doc__)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--project")
    parser.add_argument("--service-account-file")
    args = cli.parse(parser, argv)
    storage = {
        "bucket": args.bucket,
        "project": args.project,
        "service_account_file": args.service_account_file,
    }
    return cli.run(publish, storage, *cli.unit_args(args))


def from_snakemake(job):
    return publish(job.params.storage, *cli.unit_job_args(job))


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
