"""Split one course of a weekly SQL bundle: decrypt its members from the zip, parse every table
dump, build the derived tables (course_axis, forum, grades_persistent, grades_persistent_subsection,
grading_policy, roles, studentmodule, problem_analysis, user_info_combo), and write each as gzip
JSON lines with its BigQuery schema beside it, plus a receipt.

    python scripts/sql_course.py --bundle mitx-2021-01-03.zip --index index.json --course MITx/1x/T1 \
        --outdir results/SQL --receipt receipt.json [--gnupghome DIR] [--passphrase-env NAME] \
        [--max-member-expansion 200]
"""

import logging
from pathlib import Path

from edxflow.core import cli
from edxflow.core.atomic import read_json, write_json
from edxflow.fetch.decrypt import read_passphrase
from edxflow.fetch.manifest import read_manifest
from edxflow.sql import arguments
from edxflow.sql.bundle import BundleError
from edxflow.sql.course import MAX_EXPANSION, split_course

log = logging.getLogger("edxflow.sql.course")


def split(
    bundle: str,
    index_path: str,
    base: str,
    sql_root: str,
    receipt_path: str,
    gpg: dict,
    source_object: dict | None = None,
    max_expansion: int = MAX_EXPANSION,
) -> dict:
    index = read_manifest(index_path)
    entries = [entry for entry in index["courses"] if entry["base"] == base]
    if not entries:
        raise BundleError(
            f"{index_path} lists no course {base}: rerun index_bundle (snakemake --forcerun index_bundle)"
        )
    date = Path(bundle).name.removesuffix(".zip")[-10:]
    outdir = Path(sql_root) / base / date
    receipt = split_course(
        bundle,
        entries[0],
        outdir,
        gpg["homedir"],
        read_passphrase(gpg["passphrase_env"]),
        max_expansion,
    )
    receipt["source_object"] = source_object
    write_json(receipt_path, receipt)
    for table, info in receipt["tables"].items():
        log.info("%s %s: %d rows", entries[0]["course_id"], table, info["rows"])
    for table, info in receipt["rejects"].items():
        log.warning(
            "%s %s: %d rows rejected, kept in %s",
            entries[0]["course_id"],
            table,
            info["rows"],
            info["file"],
        )
    for item in receipt["refused"]:
        log.warning("%s", item["reason"])
    return receipt


def main(argv=None) -> int:
    from edxflow.core.courses import course_base_name

    parser = cli.step_parser(__doc__)
    arguments.add_bundle(parser)
    parser.add_argument("--index", required=True, help="its index, from scripts/index_bundle.py")
    parser.add_argument(
        "--course", required=True, type=cli.course_id, help="the course, in any id form"
    )
    arguments.add_sql_root(parser)
    parser.add_argument("--receipt", required=True)
    cli.add_gpg(parser)
    arguments.add_max_member_expansion(parser)
    args = cli.parse(parser, argv)
    return cli.run(
        lambda: split(
            args.bundle,
            args.index,
            course_base_name(args.course),
            args.outdir,
            args.receipt,
            cli.gpg_settings(args),
            max_expansion=args.max_member_expansion,
        )
    )


def from_snakemake(job):
    return split(
        job.input.bundle,
        job.input.index,
        job.wildcards.base,
        job.params.sql_root,
        job.output.receipt,
        job.params.gpg,
        read_json(job.input.version),
        job.params.max_member_expansion,
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
