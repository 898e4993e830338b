"""List the package objects of one file type and site that the configuration selects.

    python scripts/manifest.py --configfile config/config.yaml --file-type log --site edx \
        --output manifest.json --passed-over passed_over.json
"""

import logging
from datetime import date

from edxflow.core import cli, naming
from edxflow.core.atomic import write_json
from edxflow.core.config import load_config_file, validate_config
from edxflow.fetch.manifest import build_manifest, selection, write_manifest
from edxflow.fetch.source import open_source

log = logging.getLogger("edxflow.fetch.manifest")


def make_manifest(
    chosen: dict, file_type: str, site: str, output: str, passed_over_path: str
) -> list[dict]:
    org, bucket = chosen["org"], chosen["bucket"]
    begin, end = date.fromisoformat(chosen["begin"]), date.fromisoformat(chosen["end"])
    source = open_source(chosen["source"])
    selected, passed_over = build_manifest(
        source, org, file_type, site, bucket, begin, end, chosen["latest"]
    )
    for item in passed_over:
        log.warning("passed over %s/%s: %s", source.describe(bucket), item["key"], item["reason"])
    write_json(passed_over_path, passed_over)
    write_manifest(output, selected)
    what = f"{file_type} objects of org {org!r}" + (
        f" on site {site!r}" if site != naming.ALL_SITES else ""
    )
    if selected:
        total = sum(item["size"] for item in selected)
        log.info(
            "%d %s between %s and %s in %s (%d bytes)",
            len(selected),
            what,
            begin,
            end,
            source.describe(bucket),
            total,
        )
    else:
        log.warning(
            "no %s between %s and %s in %s: nothing to fetch",
            what,
            begin,
            end,
            source.describe(bucket),
        )
    return selected


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    parser.add_argument("--configfile", required=True, help="workflow configuration (YAML)")
    parser.add_argument("--file-type", required=True, choices=naming.FILE_TYPES)
    parser.add_argument(
        "--site", default=naming.ALL_SITES, choices=naming.SITES + (naming.ALL_SITES,)
    )
    parser.add_argument(
        "--output", required=True, help="the manifest: a sorted JSON list of objects"
    )
    parser.add_argument(
        "--passed-over",
        required=True,
        help="objects under the prefixes that were not taken, with why",
    )
    args = cli.parse(parser, argv)
    return cli.run(
        lambda: make_manifest(
            selection(validate_config(load_config_file(args.configfile)), args.file_type),
            args.file_type,
            args.site,
            args.output,
            args.passed_over,
        )
    )


def from_snakemake(job):
    return make_manifest(
        job.params.selection,
        job.wildcards.file_type,
        job.wildcards.site,
        job.output.manifest,
        job.output.passed_over,
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
