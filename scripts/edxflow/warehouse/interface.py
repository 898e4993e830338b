"""What a warehouse does for edxflow, written once: the `Warehouse` protocol both backends follow
(`DuckDBWarehouse` in duckdb.py, `BigQueryWarehouse` in bigquery.py), its error, and the checks
both backends make.

A dataset is a BigQuery dataset, or a DuckDB schema of the same name; a table is named within it.
Each dataset keeps its load state in its `_edxflow_loads` table (plan.STATE_TABLE): a row per unit
(a table, or one day `TABLE$YYYYMMDD` of a day-partitioned table) with the fingerprint of the files
it was loaded from, its rows, when, and the file type whose load wrote it.

A warehouse is opened for one session (load.warehouse_session) and closed once: what the session
wrote stays when it is closed with success=True. On DuckDB the whole session is one transaction; on
BigQuery each replacement lands (atomically) when its job ends, and closing only releases the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from edxflow.core.errors import UserError

if TYPE_CHECKING:
    from edxflow.warehouse.plan import Unit

# unit -> (fingerprint, rows, file type of the load that wrote it; None in rows older than that).
State = dict[str, tuple[str, int, str | None]]
# Tables whose names start so are edxflow's own (the load state, staging tables): not data.
INTERNAL_PREFIX = "_edxflow_"


class WarehouseError(UserError):
    """A load that failed, with the files and the table it was loading."""


@runtime_checkable
class Warehouse(Protocol):
    """A destination of the loads. Every method raises a UserError whose message names what failed
    (the files and the table of a load): a WarehouseError for what the warehouse refused or failed,
    or, on BigQuery, a google_cloud.CloudError for a request that could not be made. A replacement
    that fails leaves its table as it was. After an error, close the session with success=False
    (DuckDB's transaction cannot go on)."""

    kind: str  # "duckdb" or "bigquery", as the receipts and the `warehouse.kind` setting name it
    # The bytes the session's queries (run_query, select) processed so far: BigQuery's billed
    # measure; None on DuckDB, which has none.
    bytes_processed: int | None

    def ensure_dataset(self, dataset: str, description: str) -> None:
        """Create the dataset unless it exists (an existing one is left as it is). The description
        is BigQuery's dataset description; DuckDB has nowhere to keep it."""

    def read_state(self, dataset: str) -> State:
        """The load state of the dataset: unit key -> (fingerprint, rows, file type) of its newest
        load. A dataset never loaded has an empty state; a unit whose table was dropped is not in it.
        (DuckDB creates the state table here; BigQuery when the state is first written.)"""

    def write_state(
        self, dataset: str, file_type: str, loaded: list[tuple[Unit, int]], dropped: list[str]
    ) -> None:
        """Record loads of `file_type` in the dataset's state: each (unit, rows) of `loaded` with
        its fingerprint and the time, and each unit key of `dropped` as gone. Called after the data
        landed (replace_tables, replace_days, drop_tables), so the state never runs ahead of it."""

    def drop_tables(self, dataset: str, tables: list[str]) -> None:
        """Drop these tables of the dataset; one that does not exist is no error."""

    def replace_tables(
        self, units: list[Unit], sources: dict[str, list[str] | None]
    ) -> dict[str, int]:
        """Replace each unit's whole table (units without a day) with the rows of its files, typed
        by the unit's schema (fields the schema does not name are ignored); returns unit key -> rows
        loaded. Each table is replaced atomically: a failed load leaves it as it was. `sources` maps
        a unit key to the gs:// URIs to read instead of the local files (BigQuery; None or missing:
        the local files under the results directory, which DuckDB always reads)."""

    def replace_days(
        self, units: list[Unit], sources: dict[str, list[str] | None]
    ) -> dict[str, int]:
        """Replace days of one day-partitioned table (every unit names the same table, each one day;
        the table is created when missing) with the rows of all their files, in one atomic step;
        returns unit key -> rows of its day. Raises a WarehouseError, replacing nothing, when the
        files hold events of a day not among the units' (check_days); BigQuery also refuses an
        existing table that is not partitioned by day on `time`. `sources` as for replace_tables."""

    def run_query(
        self, sql: str, dataset: str, table: str, descriptions: dict[str, str] | None = None
    ) -> int:
        """Run a SQL query (the backend's dialect) and write its result to `dataset.table`,
        replacing the table atomically (created when missing, its rows and columns those of the
        result); returns the table's row count. `descriptions` (column -> text) are set on the
        columns they name. The dataset must exist (ensure_dataset). A query that fails (a
        WarehouseError naming the table, when the warehouse ran and refused it) leaves the table
        as it was."""

    def select(self, sql: str) -> list[dict]:
        """The rows of a read-only query (the backend's dialect) as column -> value, in the query's
        order: for small results (a table's counts, a few rows to show), not for copying data."""

    def list_tables(self, dataset: str) -> list[str]:
        """The names of the dataset's tables (and views), sorted. edxflow's own tables (names
        starting with `_edxflow_`: the load state, staging tables) are left out; a dataset that does
        not exist has none."""

    def commit(self) -> None:
        """Make what the session wrote so far stay, whatever fails after it (DuckDB commits its
        transaction and begins the next; BigQuery's jobs have already replaced their tables)."""

    def close(self, success: bool) -> None:
        """End the session: with success, what it wrote stays (DuckDB commits its transaction);
        without, DuckDB rolls all of it back and BigQuery keeps the replacements that completed."""


def check_days(
    units: list[Unit], per_day: dict[str, int], sources: list[str], table: str
) -> dict[str, int]:
    """unit key -> rows of its day, from the rows per day (YYYY-MM-DD) that the units' files hold;
    a WarehouseError when the files hold another day, whose rows replacing the units' days would
    add (or duplicate). `sources` and `table` name the files and the table in the message."""
    days = {unit.day for unit in units}
    outside = {day: count for day, count in per_day.items() if day not in days}
    if outside:
        raise WarehouseError(
            f"{', '.join(sources)}: events of other days ({outside}) are in these files, so they "
            f"cannot replace whole days of {table}: split the logs with logs.dynamic_date: true, "
            "or set warehouse.log_tables: sharded"
        )
    return {unit.key: per_day.get(unit.day, 0) for unit in units}


def is_internal(table: str) -> bool:
    """An edxflow table (load state, staging), left out of list_tables."""
    return table.startswith(INTERNAL_PREFIX)
