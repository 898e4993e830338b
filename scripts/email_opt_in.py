"""Turn the decrypted email opt-in CSVs (every member of the zip) into the `email_opt_in` table,
split per course under OUTDIR/{BASE}/email_opt_in-{date}.json.gz, with a receipt.

    python scripts/email_opt_in.py --input DIR_OF_CSVS --date 2021-01-03 --outdir results/EMAIL --receipt r.json
"""

import logging
from pathlib import Path

from edxflow.core import cli
from edxflow.sql.email_opt_in import split_email_opt_in

log = logging.getLogger("edxflow.sql.email_opt_in")


def email(input_dir: str, date: str, outdir: str, receipt_path: str, courses: list[str]) -> dict:
    paths = sorted(
        p for p in Path(input_dir).rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    receipt = split_email_opt_in(paths, outdir, date, courses, receipt_path)
    rows = sum(info["rows"] for info in receipt["by_course"].values())
    log.info(
        "email opt-in %s: %d rows for %d courses from %d files; %d rejected, %d filtered out",
        date,
        rows,
        len(receipt["by_course"]),
        len(receipt["inputs"]),
        receipt["rejected"],
        receipt["filtered_out"],
    )
    for item in receipt["passed_over"]:
        log.warning("passed over %s", item["reason"])
    return receipt


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    parser.add_argument(
        "--input", required=True, help="directory of decrypted CSVs (scripts/decrypt.py --zip)"
    )
    parser.add_argument("--date", required=True, help="the file's date, YYYY-MM-DD")
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--receipt", required=True)
    cli.add_courses(parser)
    args = cli.parse(parser, argv)
    return cli.run(
        lambda: email(
            args.input,
            args.date,
            args.outdir,
            args.receipt,
            args.courses,
        )
    )


def from_snakemake(job):
    return email(
        job.input.plain,
        job.wildcards.date,
        job.params.outdir,
        job.output.receipt,
        job.params.courses,
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
