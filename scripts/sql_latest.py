"""Which weekly bundle is the newest for each course: what `{BASE}_latest` is loaded from.

    python scripts/sql_latest.py --sql-root results/SQL --output latest.json INDEX.json ...
"""

import argparse

from edxflow import cli
from edxflow.atomic import write_json
from edxflow.bundle import latest_bundles
from edxflow.manifest import read_manifest


def latest(index_paths: list[str], sql_root: str, output: str) -> dict:
    result = latest_bundles([read_manifest(path) for path in index_paths], sql_root)
    write_json(output, result)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("indexes", nargs="*", help="bundle indexes from scripts/index_bundle.py")
    parser.add_argument("--sql-root", required=True, help="where the per-course tables are (results/SQL)")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    cli.configure_logging()
    return cli.run(latest, args.indexes, args.sql_root, args.output)


def from_snakemake(job):
    return latest(
        list(job.input.indexes),
        job.params.sql_root,
        job.output.latest,
    )


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
