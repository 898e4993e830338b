"""Split every course of an older weekly SQL bundle into SQL/{BASE}/{date}/ (with `snapshots: all`;
the newest bundle is split one job per course by sql_course.py).

    python scripts/sql_snapshot.py --bundle mitx-2021-01-03.zip --outdir results/SQL --receipt r.json \
        [--sites edx edge] [--courses ID ...] [--gnupghome DIR] [--passphrase-env NAME] [--max-member-expansion 200]
"""

import argparse
import logging

from edxflow.core import cli
from edxflow.core.atomic import read_json, write_json
from edxflow.core.courses import normalize_course_id
from edxflow.core.naming import SITES
from edxflow.fetch.decrypt import read_passphrase
from edxflow.sql.course import MAX_EXPANSION, split_snapshot

log = logging.getLogger("edxflow.sql_snapshot")


def snapshot(
    bundle: str,
    sites: list[str],
    courses: list[str],
    sql_root: str,
    course_receipts: str | None,
    receipt_path: str,
    gpg: dict,
    source_object: dict | None = None,
    max_expansion: int = MAX_EXPANSION,
) -> dict:
    receipt = split_snapshot(
        bundle,
        sites,
        courses,
        sql_root,
        course_receipts,
        source_object,
        gpg["homedir"],
        read_passphrase(gpg["passphrase_env"]),
        max_expansion,
    )
    write_json(receipt_path, receipt)
    reused = sum(1 for course in receipt["courses"].values() if course["reused"])
    log.info(
        "%s: %d course(s) split, %d already split from this bundle",
        bundle,
        len(receipt["courses"]) - reused,
        reused,
    )
    return receipt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", required=True, help="the weekly {org}-{date}.zip")
    parser.add_argument(
        "--outdir", required=True, help="the SQL root: tables go to OUTDIR/{BASE}/{date}/"
    )
    parser.add_argument("--receipt", required=True)
    parser.add_argument(
        "--sites", nargs="+", default=["edx"], choices=SITES, help="edge members only with edge"
    )
    parser.add_argument(
        "--courses", nargs="*", default=[], help="only these courses, in any id form"
    )
    parser.add_argument(
        "--gnupghome", help="GNUPGHOME holding the private key (default: gpg's own)"
    )
    parser.add_argument(
        "--passphrase-env", help="NAME of the environment variable holding the passphrase"
    )
    parser.add_argument(
        "--max-member-expansion",
        type=int,
        default=MAX_EXPANSION,
        help="a member's plaintext may be at most this many times its encrypted size (at least 64 MiB)",
    )
    args = parser.parse_args(argv)
    cli.configure_logging()
    gpg = {"homedir": args.gnupghome, "passphrase_env": args.passphrase_env}
    return cli.run(
        snapshot,
        args.bundle,
        args.sites,
        [normalize_course_id(c) for c in args.courses],
        args.outdir,
        None,
        args.receipt,
        gpg,
        None,
        args.max_member_expansion,
    )


def from_snakemake(job):
    return snapshot(
        job.input.bundle,
        job.params.sites,
        job.params.courses,
        job.params.sql_root,
        job.params.course_receipts,
        job.output.receipt,
        job.params.gpg,
        read_json(job.input.version),
        job.params.max_member_expansion,
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
