"""The command-line arguments the weekly SQL bundle's steps share (index_bundle, sql_course,
sql_snapshot)."""

from __future__ import annotations

import argparse

from edxflow.core.naming import SITES
from edxflow.sql.course import MAX_EXPANSION


def add_bundle(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", required=True, help="the weekly {org}-{date}.zip")


def add_sql_root(parser: argparse.ArgumentParser) -> None:
    """`--outdir`: where the tables of every course and date go."""
    parser.add_argument(
        "--outdir", required=True, help="the SQL root: tables go to OUTDIR/{BASE}/{date}/"
    )


def add_sites(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sites", nargs="+", default=["edx"], choices=SITES, help="edge members only with edge"
    )


def add_max_member_expansion(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-member-expansion",
        type=int,
        default=MAX_EXPANSION,
        help="a member's plaintext may be at most this many times its encrypted size (at least 64 MiB)",
    )
