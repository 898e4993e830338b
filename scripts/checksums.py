"""One receipt over many files (each with its sha256, size and modification time): the report
jobs' one input standing for every log day's load receipt (rule logs_loaded) and for every report
template and schema (rule report_templates).

    python scripts/checksums.py --output results/receipts/load/log.json \
        results/receipts/load/log/edx/2026-11-0*.json
"""

from edxflow.core import cli
from edxflow.reports.summary import checksums


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    parser.add_argument("--output", required=True, help="the receipt to write")
    parser.add_argument("files", nargs="*", help="the files it stands for")
    args = cli.parse(parser, argv)
    return cli.run(checksums, args.files, args.output)


def from_snakemake(job):
    return checksums(list(job.input.files), job.output.receipt)


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
