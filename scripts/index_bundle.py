"""List the courses of a weekly SQL bundle and their members, from the zip's directory only
(nothing is decrypted).

    python scripts/index_bundle.py --bundle mitx-2021-01-03.zip --output index.json [--sites edx edge] [--courses ID ...]
"""

import argparse
import logging

from edxflow import cli
from edxflow.atomic import read_json, write_json
from edxflow.bundle import index_bundle
from edxflow.courses import normalize_course_id
from edxflow.naming import SITES

log = logging.getLogger("edxflow.index_bundle")


def index(bundle: str, output: str, sites: list[str], courses: list[str], source_object: dict | None = None) -> dict:
    result = {**index_bundle(bundle, sites, courses), "source_object": source_object}
    write_json(output, result)
    members = sum(len(entry["members"]) for entry in result["courses"])
    log.info("%s: %d courses, %d members", bundle, len(result["courses"]), members)
    for name in result["unmapped_members"]:
        log.warning("%s: member %s names no course; it is not processed", bundle, name)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True, help="the weekly {org}-{date}.zip")
    parser.add_argument("--output", required=True, help="the index (JSON)")
    parser.add_argument("--sites", nargs="+", default=["edx"], choices=SITES, help="edge members only with edge")
    parser.add_argument("--courses", nargs="*", default=[], help="only these courses, in any id form")
    args = parser.parse_args(argv)
    cli.configure_logging()
    return cli.run(lambda: index(args.bundle, args.output, args.sites, [normalize_course_id(c) for c in args.courses]))


def from_snakemake(job):
    return index(
        job.input.bundle,
        job.output.index,
        job.params.sites,
        job.params.courses,
        read_json(job.input.version),
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
