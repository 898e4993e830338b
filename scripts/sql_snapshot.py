"""Split every course of an older weekly SQL bundle into SQL/{BASE}/{date}/ (with `snapshots: all`;
the newest bundle is split one job per course by sql_course.py).

    python scripts/sql_snapshot.py --bundle mitx-2021-01-03.zip --outdir results/SQL --receipt r.json \
        [--sites edx edge] [--courses ID ...] [--gnupghome DIR] [--passphrase-env NAME] [--max-member-expansion 200]
"""

import logging

from edxflow.core import cli
from edxflow.core.atomic import read_json, write_json
from edxflow.fetch.decrypt import read_passphrase
from edxflow.sql import arguments
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
    parser = cli.step_parser(__doc__)
    arguments.add_bundle(parser)
    arguments.add_sql_root(parser)
    parser.add_argument("--receipt", required=True)
    arguments.add_sites(parser)
    cli.add_courses(parser)
    cli.add_gpg(parser)
    arguments.add_max_member_expansion(parser)
    args = cli.parse(parser, argv)
    return cli.run(
        snapshot,
        args.bundle,
        args.sites,
        args.courses,
        args.outdir,
        None,
        args.receipt,
        cli.gpg_settings(args),
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
