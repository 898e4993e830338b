"""The run report: plots and tables of a run drawn from its receipts and manifests alone (no
warehouse access), for `snakemake --report`: events per course per day, events of no course and
rejected lines per day (by reason), each step's seconds, the rows of every table per course, and
the package objects selected and passed over.

    python scripts/run_report.py --results-dir results/demo --outdir results/demo/run_report [--top 10]

By hand it reads every receipt under RESULTS_DIR; the rule names them.
"""

import dataclasses

from edxflow.core import cli
from edxflow.run_report.build import RunReportFiles, write_run_report
from edxflow.run_report.plots import TOP
from edxflow.run_report.receipts import RunReceipts, find_receipts


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    parser.add_argument("--results-dir", required=True, help="the run's results directory")
    parser.add_argument("--outdir", required=True, help="where the plots and tables go")
    parser.add_argument(
        "--top", type=int, default=TOP, help=f"courses drawn one by one (default {TOP})"
    )
    args = cli.parse(parser, argv)
    return cli.run(
        lambda: write_run_report(
            find_receipts(args.results_dir), RunReportFiles.in_directory(args.outdir), args.top
        )
    )


def paths(named) -> list[str]:
    """A named input as a list (Snakemake gives one file as a string)."""
    return [named] if isinstance(named, str) else list(named)


def from_snakemake(job):
    receipts = RunReceipts(
        **{
            field.name: paths(getattr(job.input, field.name))
            for field in dataclasses.fields(RunReceipts)
        }
    )
    files = RunReportFiles(
        **{
            field.name: getattr(job.output, field.name)
            for field in dataclasses.fields(RunReportFiles)
        }
    )
    return write_run_report(receipts, files)


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
