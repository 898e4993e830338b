"""What a course's load writes, in units that are replaced whole: a table of `{BASE}_latest`, or
one day of the tracking log in `{BASE}_logs` (a partition of `tracklog`, or a `tracklog_YYYYMMDD`
shard as simeon makes them).

A unit is loaded again only when its files changed: each unit's fingerprint (file names and
MD5s) is kept in the dataset's `_edxflow_loads` table, and a unit whose fingerprint matches is left
alone. Loading a unit replaces it, so loading twice never duplicates rows.

The state also says which load (file type) wrote each unit: `{BASE}_latest` holds the SQL load's
tables and the email load's, and a table the newest SQL bundle no longer has is dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from edxflow.core.jsonl import shipped_schema
from edxflow.fetch.source import file_md5
from edxflow.warehouse.interface import State, WarehouseError

STATE_TABLE = "_edxflow_loads"
EMAIL_TABLE = "email_opt_in"
_LOG_DAY = re.compile(r"tracklog-(\d{4})-(\d{2})-(\d{2})\.")
_EMAIL = re.compile(r"email_opt_in-\d{4}-\d{2}-\d{2}$")


@dataclass
class Unit:
    dataset: str
    table: str
    files: list[str]  # data files, relative to the results directory
    schema: list[dict]
    day: str | None = None  # YYYY-MM-DD: one partition of a day-partitioned table
    fingerprint: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return f"{self.table}${self.day.replace('-', '')}" if self.day else self.table


def dataset_name(base: str, file_type: str) -> str:
    return f"{base}_logs" if file_type == "log" else f"{base}_latest"


def table_name(filename: str) -> str:
    """simeon's rule: the file name up to its first `.`, `-` as `_` (`email_opt_in-DATE` -> `email_opt_in`)."""
    stem = filename.split(".", 1)[0]
    email = _EMAIL.fullmatch(stem)
    return EMAIL_TABLE if email else stem.replace("-", "_")


def log_day(filename: str) -> str:
    match = _LOG_DAY.match(filename)
    if not match:
        raise WarehouseError(
            f"{filename} is not named tracklog-YYYY-MM-DD.*: only the split's per-course "
            "tracking-log files load as logs"
        )
    return "-".join(match.groups())


def plan_units(
    file_type: str, base: str, files: list[str], results_dir: str | Path, log_tables: str
) -> list[Unit]:
    """The units of one course's files (as listed by the course index)."""
    results_dir = Path(results_dir)
    dataset = dataset_name(base, file_type)
    data = [name for name in files if name.endswith(".json.gz")]
    if file_type == "log":
        by_day: dict[str, list[str]] = {}
        for name in data:
            by_day.setdefault(log_day(Path(name).name), []).append(name)
        schema = shipped_schema("tracking_log")
        if log_tables == "sharded":
            units = [
                Unit(dataset, f"tracklog_{day.replace('-', '')}", names, schema)
                for day, names in by_day.items()
            ]
        else:
            units = [
                Unit(dataset, "tracklog", names, schema, day=day) for day, names in by_day.items()
            ]
    else:
        units = []
        for name in data:
            schema_path = results_dir / (name.removesuffix(".json.gz") + ".schema.json")
            units.append(
                Unit(
                    dataset,
                    table_name(Path(name).name),
                    [name],
                    json.loads(schema_path.read_text()),
                )
            )
    for unit in units:
        unit.fingerprint = fingerprint(results_dir, unit.files)
    return sorted(units, key=lambda unit: unit.key)


def local_paths(results_dir: Path, units: list[Unit]) -> list[Path]:
    """The units' local files, as a load reads them and its errors name them."""
    return [results_dir / name for unit in units for name in unit.files]


def fingerprint(results_dir: Path, files: list[str]) -> str:
    """File names and MD5s, as one string: equal fingerprints mean equal contents."""
    entries = [[name, file_md5(results_dir / name).hex()] for name in sorted(files)]
    return json.dumps(entries, separators=(",", ":"))


def changed_units(units: list[Unit], state: State) -> list[Unit]:
    """The units whose fingerprint differs from the one recorded at their last load."""
    return [
        unit for unit in units if unit.key not in state or state[unit.key][0] != unit.fingerprint
    ]


def gone_units(file_type: str, units: list[Unit], state: State) -> list[str]:
    """The tables an earlier load of this file type wrote that its files no longer have. A course's
    SQL (or email) load has all of its tables, so these are dropped; a log load has only its days."""
    if file_type == "log":
        return []
    present = {unit.key for unit in units}
    return sorted(
        key
        for key, (_, _, owner) in state.items()
        if key not in present and written_by(owner, key) == file_type
    )


def written_by(file_type: str | None, key: str) -> str:
    """The file type whose load wrote a unit of `{BASE}_latest`; a state row written before the state
    named it is the email load's for the email table, else the SQL load's."""
    return file_type or ("email" if key == EMAIL_TABLE else "sql")
