"""Download one object listed in a manifest, verifying what can be verified (size; MD5 or the object's
checksum where S3 keeps one), with retries. The log says which checks were made.

    python scripts/fetch_object.py --configfile config/config.yaml --manifest manifest.json \
        --key mitx/edx/events/2021/mitx-edx-events-2021-01-01.log.gz.gpg --output FILE
"""

import logging

from edxflow.core import cli
from edxflow.core.atomic import read_json
from edxflow.fetch.download import download
from edxflow.fetch.manifest import read_manifest
from edxflow.fetch.source import SourceError, open_source

log = logging.getLogger("edxflow.fetch.download")


def download_entry(
    source_config: dict, entry: dict | None, key: str, manifest_path: str, output: str
) -> dict:
    if entry is None:
        raise SourceError(
            f"{key} is not in the manifest {manifest_path}: list the source again "
            "(scripts/manifest.py, or any snakemake run)"
        )
    result = download(open_source(source_config), entry, output)
    log.info(
        "downloaded %s to %s: %d bytes, md5 %s, verified: %s, %d attempt(s), %.2f s",
        key,
        output,
        result["bytes"],
        result["md5"],
        result["verified"],
        result["attempts"],
        result["seconds"],
    )
    return result


def download_listed(source_config: dict, manifest_path: str, key: str, output: str) -> dict:
    entry = next((item for item in read_manifest(manifest_path) if item["key"] == key), None)
    return download_entry(source_config, entry, key, manifest_path, output)


def main(argv=None) -> int:
    from edxflow.core.config import load_config_file, validate_config

    parser = cli.step_parser(__doc__)
    parser.add_argument(
        "--configfile", required=True, help="workflow configuration (YAML), for the source"
    )
    parser.add_argument(
        "--manifest", required=True, help="manifest JSON written by scripts/manifest.py"
    )
    parser.add_argument("--key", required=True, help="the object's key, as in the manifest")
    parser.add_argument("--output", required=True)
    args = cli.parse(parser, argv)
    return cli.run(
        lambda: download_listed(
            validate_config(load_config_file(args.configfile))["source"],
            args.manifest,
            args.key,
            args.output,
        )
    )


def from_snakemake(job):
    return download_entry(
        job.params.source,
        read_json(job.input.version),
        job.wildcards.key,
        job.input.version,
        job.output.raw,
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
