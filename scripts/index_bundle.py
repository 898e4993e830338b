"""List the courses of a weekly SQL bundle and their members, from the zip's directory. Only a
member prefix the names leave ambiguous (and the course list does not settle) is resolved from
content: the start of its smallest member that names the course, decrypted as a stream, never to disk.

    python scripts/index_bundle.py --bundle mitx-2021-01-03.zip --output index.json [--sites edx edge] [--courses ID ...]
        [--gnupghome DIR] [--passphrase-env NAME]
"""

import argparse
import logging

from edxflow.core import cli
from edxflow.core.atomic import read_json, write_json
from edxflow.core.courses import normalize_course_id
from edxflow.core.naming import SITES
from edxflow.fetch.decrypt import read_passphrase
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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", required=True, help="the weekly {org}-{date}.zip")
    parser.add_argument("--output", required=True, help="the index (JSON)")
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
    args = parser.parse_args(argv)
    cli.configure_logging()
    gpg = {"homedir": args.gnupghome, "passphrase_env": args.passphrase_env}
    return cli.run(
        lambda: index(
            args.bundle,
            args.output,
            args.sites,
            [normalize_course_id(c) for c in args.courses],
            gpg,
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
