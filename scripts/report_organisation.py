"""Build the organisation's tables (person_course_all, course_summary, enrollment_by_day) in
`{org}_reports` from every course's report tables, each only when a course's input changed;
writes the receipt.

    python scripts/report_organisation.py --org demox --results-dir results \
        [--duckdb results/warehouse.duckdb | --bigquery-project P] [--force] \
        results/receipts/report/*.json
"""

from pathlib import Path

from edxflow.core import cli
from edxflow.core.atomic import write_json
from edxflow.reports.build import last_build
from edxflow.reports.organisation import report_organisation
from edxflow.warehouse.settings import WarehouseSettings, add_warehouse_arguments


def main(argv=None) -> int:
    parser = cli.step_parser(__doc__)
    parser.add_argument("--org", required=True, help="the organisation's code (config key org)")
    parser.add_argument("--results-dir", required=True)
    add_warehouse_arguments(parser)
    parser.add_argument("--force", action="store_true", help="build every table again")
    parser.add_argument("--receipt", help="default: RESULTS_DIR/receipts/report_organisation.json")
    parser.add_argument("receipts", nargs="+", help="the courses' report receipts")
    args = cli.parse(parser, argv)
    settings = WarehouseSettings.from_args(args)
    receipt = args.receipt or Path(args.results_dir, "receipts", "report_organisation.json")
    return cli.run(
        report_organisation,
        settings,
        args.results_dir,
        args.org,
        args.receipts,
        receipt,
        force=args.force,
    )


def from_snakemake(job):
    """A `report_organisation` job: params warehouse (the config section) and org; input courses
    (the courses' report receipts); output receipt, a copy of the build state (see last_build)."""
    receipt = report_organisation(
        WarehouseSettings.from_config(dict(job.params.warehouse)),
        str(Path(job.output.receipt).parents[1]),
        job.params.org,
        list(job.input.courses),
        last_build(job.output.receipt),
    )
    write_json(job.output.receipt, receipt)
    return receipt


if __name__ == "__main__":
    cli.entry(globals().get("snakemake"), from_snakemake, main)
