"""List the courses of a weekly SQL bundle and their members, from the zip's directory. Only a
member prefix the names leave ambiguous (and the course list does not settle) is resolved from
content: the start of its smallest member that names the course, decrypted as a stream, never to disk.

    python scripts/index_bundle.py --bundle mitx-2021-01-03.zip --output index.json [--sites edx edge] [--courses ID ...]
        [--gnupghome DIR] [--passphrase-env NAME]
"""

import logging

from edxflow.core import cli
from edxflow.core.atomic import read_json, write_json
from edxflow.fetch.decrypt import read_passphrase
from edxflow.sql import arguments
from edxflow.sql.bundle import index_bundle

log = logging.getLogger("edxflow.index_bundle")


def index(
    bundle: str,
    output: str,
    sites: list[str],
    courses: list[str],
    gpg: dict,
    source_object: dict | None = None,
) -> dict:
    keys = {"homedir": gpg["homedir"], "passphrase": read_passphrase(gpg["passphrase_env"])}
    result = {**index_bundle(bundle, sites, courses, keys), "source_object": source_object}
    write_json(output, result)
    members = sum(len(entry["members"]) for entry in result["courses"])
    log.info("%s: %d courses, %d members", bundle, len(result["courses"]), members)
    for entry in result["courses"]:
        if entry["resolved_by"] != "three parts":
            log.info(
                "%s: members %s-* are the course %s (%s)",
                bundle,
                entry["prefix"],
                entry["course_id"],
                entry["resolved_by"],
            )
    for name in result["unmapped_members"]:
        log.warning("%s: member %s names no course; it is not processed", bundle, name)
    for name in result["refused_members"]:
        log.warning(
            "%s: member %s is refused: its path would leave the output directory; it is not processed",
            bundle,
            name,
        )
    return result


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    arguments.add_bundle(parser)
    parser.add_argument("--output", required=True, help="the index (JSON)")
    arguments.add_sites(parser)
    cli.add_courses(parser)
    cli.add_gpg(parser)
    args = cli.parse(parser, argv)
    return cli.run(
        lambda: index(
            args.bundle,
            args.output,
            args.sites,
            args.courses,
            cli.gpg_settings(args),
        )
    )


def from_snakemake(job):
    return index(
        job.input.bundle,
        job.output.index,
        job.params.sites,
        job.params.courses,
        job.params.gpg,
        read_json(job.input.version),
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
