"""Upload one course's files of one file type to Google Cloud Storage (simeon's layout); objects
already there with the same MD5 are not uploaded again.

    python scripts/publish.py --results-dir results --file-type log --course MITx__6_002x__2T2021 \
        --bucket my-bucket --receipt publish.json [--project P] [--service-account-file KEY.json] FILE ...

FILE: paths relative to the results directory (as in manifests/courses/{file_type}.json).
"""

from edxflow import cli
from edxflow.course_index import results_relative
from edxflow.google_cloud import storage_client
from edxflow.publish import publish_course


def publish(storage: dict, file_type: str, base: str, results_dir: str, files: list[str], receipt: str) -> dict:
    client = storage_client(storage.get("project"), storage.get("service_account_file"))
    return publish_course(client, storage["bucket"], file_type, base, results_dir, files, receipt)


def main(argv=None) -> int:
    parser = cli.course_files_parser(__doc__)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--project")
    parser.add_argument("--service-account-file")
    args = parser.parse_args(argv)
    cli.configure_logging()
    storage = {"bucket": args.bucket, "project": args.project, "service_account_file": args.service_account_file}
    return cli.run(publish, storage, args.file_type, args.course, args.results_dir, args.files, args.receipt)


def from_snakemake(job):
    results_dir, files = results_relative(list(job.input.files), job.wildcards.file_type)
    return publish(job.params.storage, job.wildcards.file_type, job.wildcards.base, results_dir, files,
                   job.output.receipt)


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
