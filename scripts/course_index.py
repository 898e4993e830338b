"""Which per-course files of a file type exist (what `publish` and `load` work on).

    python scripts/course_index.py --results-dir results --file-type log --output courses/log.json
"""

import argparse

from edxflow import cli
from edxflow.course_index import course_index


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", required=True)
    parser.add_argument("--file-type", required=True, choices=["log", "sql", "email"])
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    cli.configure_logging()
    return cli.run(course_index, args.results_dir, args.file_type, args.output)


def from_snakemake(job):
    return course_index(job.params.results_dir, job.wildcards.file_type, job.output.index)


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
