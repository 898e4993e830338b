"""Split one decrypted daily tracking log per course (gzip JSON lines per course and day), with a
receipt that accounts for every input line.

    python scripts/split_tracking_log.py --input FILE.log.gz --outdir DIR --receipt FILE.json [--courses ID ...]

Course files go to DIR/{ORG__NUM__RUN}/tracklog-{day}.{site}-{date}.json.gz, events without a course
to DIR/no_course/{site}-{date}.json.gz, rejected lines (with line number and reason) to
DIR/rejects/{site}-{date}.json.gz. Site and date are read from the file name
({org}-{site}-events-{date}.log.gz) unless given.
"""

import logging
import re
from pathlib import Path

from edxflow.core import cli
from edxflow.core.atomic import read_json, write_json
from edxflow.core.config import ConfigError
from edxflow.core.naming import SITES, date_of_key
from edxflow.logs.split import split_tracking_log

log = logging.getLogger("edxflow.split")


def split(
    input_path, outdir, receipt_path, site, file_date, courses, source_object=None, **options
) -> dict:
    receipt = split_tracking_log(input_path, outdir, site, file_date, courses=courses, **options)
    receipt["source_object"] = source_object
    write_json(receipt_path, receipt)
    events = sum(receipt["by_course"].values())
    rate = receipt["lines_in"] / receipt["seconds"] if receipt["seconds"] else 0
    log.info(
        "%s: %d lines -> %d events in %d courses, %d without course, %d rejected, %d duplicates, "
        "%d filtered out, %d blank (%.0f lines/s)",
        input_path,
        receipt["lines_in"],
        events,
        len(receipt["by_course"]),
        receipt["no_course"],
        receipt["rejected"],
        receipt["duplicates"],
        receipt["filtered_out"],
        receipt["blank"],
        rate,
    )
    if receipt["truncated"]:
        log.warning(
            "%s: %s; every complete line before the break was kept",
            input_path,
            receipt["truncated"],
        )
    return receipt


def site_and_date(path: str, site: str | None, date: str | None) -> tuple[str, str]:
    name = Path(path).name
    found_site = re.search(rf"-({'|'.join(SITES)})-events-", name)
    found_date = date_of_key(name)
    site = site or (found_site.group(1) if found_site else None)
    date = date or (found_date.isoformat() if found_date else None)
    if not site or not date:
        raise ConfigError(
            f"cannot tell the site and date of {path} from its name: pass --site and --date"
        )
    return site, date


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    parser.add_argument(
        "--input", required=True, help="decrypted daily log (.log.gz, or plain .log)"
    )
    parser.add_argument(
        "--outdir", required=True, help="root of the per-course files (TRACKING_LOGS)"
    )
    parser.add_argument("--receipt", required=True, help="JSON receipt to write")
    cli.add_courses(parser)
    parser.add_argument(
        "--site", choices=SITES, help="site of the log (default: from the file name)"
    )
    parser.add_argument("--date", help="date of the log, YYYY-MM-DD (default: from the file name)")
    parser.add_argument(
        "--dynamic-date", action="store_true", help="file each event under its own date"
    )
    parser.add_argument(
        "--keep-duplicates", action="store_true", help="write exact duplicate lines again"
    )
    parser.add_argument(
        "--fail-on-truncated",
        action="store_true",
        help="fail (writing nothing) on a truncated input",
    )
    args = cli.parse(parser, argv)

    def run():
        site, date = site_and_date(args.input, args.site, args.date)
        split(
            args.input,
            args.outdir,
            args.receipt,
            site,
            date,
            args.courses,
            deduplicate=not args.keep_duplicates,
            dynamic_date=args.dynamic_date,
            fail_on_truncated=args.fail_on_truncated,
        )

    return cli.run(run)


def from_snakemake(job):
    return split(
        job.input.log,
        job.params.outdir,
        job.output.receipt,
        job.wildcards.site,
        job.wildcards.date,
        job.params.courses,
        read_json(job.input.version),
        **job.params.options,
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
