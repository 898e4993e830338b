"""The embedded warehouse: per-course files into one DuckDB file, typed by the BigQuery schemas,
replaced unit by unit when their files change."""

import gzip
import json
import logging
import multiprocessing
import os
import re
import time

import duckdb
import pytest

from edxflow.core.jsonl import shipped_schema, write_rows, write_schema
from edxflow.core.progress import format_bytes
from edxflow.warehouse.duckdb import DuckDBWarehouse, column_type
from edxflow.warehouse.interface import WarehouseError
from edxflow.warehouse.load import load_course, load_files, load_units, warehouse_summary
from edxflow.warehouse.plan import log_day, plan_units, table_name
from edxflow.warehouse.settings import WarehouseSettings
from edxflow.warehouse.unit_files import log_partition_files, unit_files
from tests.disks import grow, small_tmpfs

BASE = "MITx__6_002x__2T2021"
COURSE = "MITx/6.002x/2T2021"


def event(day: str, number: int) -> dict:
    return {
        "time": f"{day}T{number % 24:02d}:00:00.{number:06d}+00:00",
        "username": f"user{number}",
        "event_type": "problem_check",
        "course_id": COURSE,
        "context": {"course_id": COURSE, "user_id": number},
        "event": json.dumps({"n": number}),
        "event_struct": {"attempts": number % 3},
    }


def write_day(results, day: str, count: int, site: str = "edx", start: int = 0) -> str:
    name = f"TRACKING_LOGS/{BASE}/tracklog-{day}.{site}-{day}.json.gz"
    write_rows(results / name, [event(day, start + n) for n in range(count)])
    return name


def write_table(
    results, table: str, rows: list[dict], schema: list[dict], date: str = "2021-06-06"
) -> list[str]:
    directory = results / "SQL" / BASE / date
    write_rows(directory / f"{table}.json.gz", rows)
    write_schema(directory / f"{table}.schema.json", schema)
    return [f"SQL/{BASE}/{date}/{table}.json.gz", f"SQL/{BASE}/{date}/{table}.schema.json"]


def settings(results, log_tables="partitioned") -> WarehouseSettings:
    return WarehouseSettings(
        "duckdb", path=str(results / "warehouse.duckdb"), log_tables=log_tables
    )


def query(results, sql: str):
    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_names_follow_simeon():
    assert table_name("user_info_combo.json.gz") == "user_info_combo"
    assert table_name("email_opt_in-2021-06-06.json.gz") == "email_opt_in"
    assert table_name("ora-submissions.json.gz") == "ora_submissions"
    assert log_day("tracklog-2021-01-02.edge-2021-01-03.json.gz") == "2021-01-02"
    with pytest.raises(WarehouseError, match="tracklog-YYYY-MM-DD"):
        log_day("dead_letters.json.gz")


def test_bigquery_types_become_duckdb_types():
    schema = {field["name"]: field for field in shipped_schema("problem_analysis")}
    assert column_type(schema["item"]).startswith('STRUCT("answer_id" VARCHAR') and column_type(
        schema["item"]
    ).endswith("[]")
    assert column_type({"name": "t", "type": "TIMESTAMP"}) == "TIMESTAMPTZ"
    assert column_type({"name": "n", "type": "INTEGER", "mode": "REPEATED"}) == "BIGINT[]"


def test_units_per_table_and_per_day(tmp_path):
    names = [
        write_day(tmp_path, "2021-01-01", 2),
        write_day(tmp_path, "2021-01-01", 1, site="edge"),
        write_day(tmp_path, "2021-01-02", 1),
    ]
    partitioned = plan_units("log", BASE, names, tmp_path, "partitioned")
    assert [(unit.key, len(unit.files)) for unit in partitioned] == [
        ("tracklog$20210101", 2),
        ("tracklog$20210102", 1),
    ]
    sharded = plan_units("log", BASE, names, tmp_path, "sharded")
    assert [unit.key for unit in sharded] == ["tracklog_20210101", "tracklog_20210102"]
    assert {unit.dataset for unit in sharded} == {f"{BASE}_logs"}
    files = write_table(tmp_path, "roles", [{"course_id": COURSE}], shipped_schema("roles"))
    [roles] = plan_units("sql", BASE, files, tmp_path, "partitioned")
    assert (roles.dataset, roles.table, roles.files) == (f"{BASE}_latest", "roles", files[:1])


def split_receipt(results, names: list[str], day: str = "2021-01-01") -> str:
    """A split's receipt naming its outputs (as split_tracking_log writes it), plus its no-course
    and rejects files, which are not loaded."""
    outputs = [{"path": str(results / name), "lines": 1} for name in names]
    outputs += [
        {"path": str(results / "TRACKING_LOGS" / folder / f"edx-{day}.json.gz"), "lines": 1}
        for folder in ("no_course", "rejects")
    ]
    path = results / "receipts" / "split_tracking_log" / "edx" / f"{day}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"outputs": outputs}))
    return str(path)


def test_unit_files_come_from_the_writing_steps_receipt(tmp_path):
    day = write_day(tmp_path, "2021-01-01", 1)
    assert unit_files("log", split_receipt(tmp_path, [day])) == {BASE: [day]}
    files = write_table(tmp_path, "roles", [{"course_id": COURSE}], shipped_schema("roles"))
    sql = tmp_path / "sql.json"
    sql.write_text(
        json.dumps(
            {
                "base": BASE,
                "directory": str(tmp_path / "SQL" / BASE / "2021-06-06"),
                "tables": {"roles": {"file": "roles.json.gz", "schema": "roles.schema.json"}},
            }
        )
    )
    assert unit_files("sql", sql) == {BASE: sorted(files)}
    email = tmp_path / "email.json"
    email.write_text(
        json.dumps(
            {"by_course": {COURSE: {"file": f"x/EMAIL/{BASE}/email_opt_in-2021-06-06.json.gz"}}}
        )
    )
    assert unit_files("email", email) == {
        BASE: [
            f"EMAIL/{BASE}/email_opt_in-2021-06-06.json.gz",
            f"EMAIL/{BASE}/email_opt_in-2021-06-06.schema.json",
        ]
    }


def test_a_log_day_loads_whole_course_days_whichever_files_hold_them(tmp_path):
    """With dynamic_date a daily file holds events of the day before; the day before, split from
    its own file earlier, is then loaded again with both files, and the edge file of a day with the
    edx one."""

    def load_day(day, names):
        receipt = tmp_path / "receipts" / "load" / "log" / "edx" / f"{day}.json"
        return load_files(
            settings(tmp_path), "log", tmp_path, split_receipt(tmp_path, names, day), receipt
        )

    own = write_day(tmp_path, "2021-01-01", 4)
    first = load_day("2021-01-01", [own])
    assert first["courses"][BASE]["loaded"] == ["tracklog$20210101"]
    late = f"TRACKING_LOGS/{BASE}/tracklog-2021-01-01.edx-2021-01-02.json.gz"
    write_rows(tmp_path / late, [event("2021-01-01", 50 + n) for n in range(2)])
    next_day = write_day(tmp_path, "2021-01-02", 3)
    edge = write_day(tmp_path, "2021-01-02", 1, site="edge", start=90)
    assert log_partition_files(tmp_path, BASE, "2021-01-01") == sorted([own, late])
    second = load_day("2021-01-02", [late, next_day, edge])
    assert second["courses"][BASE]["loaded"] == ["tracklog$20210101", "tracklog$20210102"]
    per_day = query(
        tmp_path,
        f'SELECT CAST(time AS DATE)::VARCHAR, count(*) FROM "{BASE}_logs".tracklog GROUP BY 1 ORDER BY 1',
    )
    assert per_day == [("2021-01-01", 6), ("2021-01-02", 4)]
    again = load_day("2021-01-01", [own])
    assert (
        again["courses"][BASE]["loaded"] == []
        and again["courses"][BASE]["tables"]["tracklog"]["rows"] == 6
    )
    assert f"{BASE}_logs.tracklog: 10 rows" in warehouse_summary(tmp_path, settings(tmp_path))


def test_tables_load_with_their_types_and_nested_records(tmp_path):
    rows = [
        {
            "course_id": COURSE,
            "user_id": 7,
            "problem_url_name": "p1",
            "attempts": 2,
            "done": True,
            "grade": 1.0,
            "max_grade": 2.0,
            "created": "2021-06-01 10:00:00+00:00",
            "item": [
                {
                    "answer_id": "a_2_1",
                    "correctness": "correct",
                    "correct_bool": True,
                    "npoints": None,
                    "msg": "",
                    "hint": "",
                    "response": '"choice_1"',
                }
            ],
        }
    ]
    files = write_table(tmp_path, "problem_analysis", rows, shipped_schema("problem_analysis"))
    receipt = load_course(
        settings(tmp_path),
        "sql",
        BASE,
        tmp_path,
        files,
        tmp_path / "receipts" / "load" / "sql" / f"{BASE}.json",
    )
    assert receipt["tables"]["problem_analysis"]["rows"] == 1
    assert query(
        tmp_path,
        f"SELECT item[1].correctness, attempts, created = TIMESTAMPTZ '2021-06-01 10:00:00+00' "
        f'FROM "{BASE}_latest".problem_analysis',
    ) == [("correct", 2, True)]
    assert os.stat(tmp_path / "warehouse.duckdb").st_mode & 0o777 == 0o600
    assert f"{BASE}_latest.problem_analysis: 1 rows" in warehouse_summary(
        tmp_path, settings(tmp_path)
    )


def test_log_days_load_once_and_are_replaced_when_changed(tmp_path):
    names = [write_day(tmp_path, "2021-01-01", 5), write_day(tmp_path, "2021-01-02", 3)]
    first = load_course(settings(tmp_path), "log", BASE, tmp_path, names, tmp_path / "r1.json")
    assert (
        first["loaded"] == ["tracklog$20210101", "tracklog$20210102"]
        and first["tables"]["tracklog"]["rows"] == 8
    )

    again = load_course(settings(tmp_path), "log", BASE, tmp_path, names, tmp_path / "r2.json")
    assert (
        again["loaded"] == []
        and again["unchanged"] == 2
        and again["tables"]["tracklog"]["rows"] == 8
    )

    names.append(write_day(tmp_path, "2021-01-03", 4))
    write_day(tmp_path, "2021-01-01", 6, start=100)  # the first day's file changed: 6 other events
    third = load_course(settings(tmp_path), "log", BASE, tmp_path, names, tmp_path / "r3.json")
    assert third["loaded"] == ["tracklog$20210101", "tracklog$20210103"]
    per_day = dict(
        query(
            tmp_path,
            f"SELECT CAST(time AT TIME ZONE 'UTC' AS DATE)::VARCHAR, count(*) "
            f'FROM "{BASE}_logs".tracklog GROUP BY 1',
        )
    )
    assert per_day == {"2021-01-01": 6, "2021-01-02": 3, "2021-01-03": 4}
    assert query(
        tmp_path, f'SELECT count(*) - count(DISTINCT (time, username)) FROM "{BASE}_logs".tracklog'
    ) == [(0,)]
    assert third["tables"]["tracklog"]["rows"] == 13


def test_sharded_days_are_tables(tmp_path):
    names = [write_day(tmp_path, "2021-01-01", 2), write_day(tmp_path, "2021-01-02", 1)]
    load_course(settings(tmp_path, "sharded"), "log", BASE, tmp_path, names, tmp_path / "r.json")
    tables = dict(
        query(
            tmp_path,
            "SELECT table_name, estimated_size FROM duckdb_tables() "
            f"WHERE schema_name = '{BASE}_logs' AND table_name LIKE 'tracklog%'",
        )
    )
    assert set(tables) == {"tracklog_20210101", "tracklog_20210102"}


def test_events_of_another_day_cannot_replace_a_partition(tmp_path):
    name = f"TRACKING_LOGS/{BASE}/tracklog-2021-01-01.edx-2021-01-01.json.gz"
    write_rows(tmp_path / name, [event("2021-01-01", 1), event("2021-01-02", 2)])
    with pytest.raises(WarehouseError, match=r"logs.dynamic_date: true.*log_tables: sharded"):
        load_course(settings(tmp_path), "log", BASE, tmp_path, [name], tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


def test_a_corrupt_file_fails_the_course_and_changes_nothing(tmp_path):
    good = write_day(tmp_path, "2021-01-01", 3)
    load_course(settings(tmp_path), "log", BASE, tmp_path, [good], tmp_path / "r1.json")
    bad = f"TRACKING_LOGS/{BASE}/tracklog-2021-01-02.edx-2021-01-02.json.gz"
    (tmp_path / bad).write_bytes(
        gzip.compress(json.dumps(event("2021-01-02", 1)).encode() + b"\n{not json\n")
    )
    changed = write_day(tmp_path, "2021-01-01", 1, start=50)
    with pytest.raises(WarehouseError, match=r"tracklog-2021-01-02\.edx-2021-01-02\.json\.gz"):
        load_course(settings(tmp_path), "log", BASE, tmp_path, [changed, bad], tmp_path / "r2.json")
    assert not (tmp_path / "r2.json").exists()
    # the transaction rolled back: the first day is as it was, and no state says otherwise
    assert query(tmp_path, f'SELECT count(*) FROM "{BASE}_logs".tracklog') == [(3,)]
    again = load_course(settings(tmp_path), "log", BASE, tmp_path, [changed], tmp_path / "r3.json")
    assert again["loaded"] == ["tracklog$20210101"] and again["tables"]["tracklog"]["rows"] == 1


def _hold_lock(path, seconds, ready):
    with duckdb.connect(path):
        ready.set()
        time.sleep(seconds)


def test_a_locked_warehouse_is_waited_for(tmp_path):
    path = str(tmp_path / "warehouse.duckdb")
    duckdb.connect(path).close()
    ready = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(
        target=_hold_lock, args=(path, 1.5, ready)
    )
    holder.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        warehouse = DuckDBWarehouse(path, tmp_path)
        waited = time.monotonic() - started
        warehouse.close(True)
    finally:
        holder.join()
    assert waited > 0.5


def test_load_units_reports_rows_of_unchanged_units_from_the_state(tmp_path):
    names = [write_day(tmp_path, "2021-01-01", 2)]
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", tmp_path)
    try:
        load_units(warehouse, "log", BASE, tmp_path, names)
        receipt = load_units(warehouse, "log", BASE, tmp_path, names)
    finally:
        warehouse.close(True)
    assert receipt["tables"]["tracklog"]["units"]["tracklog$20210101"] == {
        "rows": 2,
        "files": names,
        "loaded": False,
    }


def test_many_new_days_are_replaced_a_batch_at_a_time(tmp_path, monkeypatch):
    import edxflow.warehouse.load

    monkeypatch.setattr(edxflow.warehouse.load, "DAY_BATCH", 2)
    names = [write_day(tmp_path, f"2021-01-0{day}", day) for day in range(1, 6)]
    receipt = load_course(settings(tmp_path), "log", BASE, tmp_path, names, tmp_path / "r.json")
    assert (
        len(receipt["loaded"]) == 5 and receipt["tables"]["tracklog"]["rows"] == 1 + 2 + 3 + 4 + 5
    )
    assert query(tmp_path, f'SELECT count(*) FROM "{BASE}_logs".tracklog') == [(15,)]
    spill = tmp_path / ".warehouse.duckdb.tmp"
    assert spill.is_dir() and spill.stat().st_mode & 0o777 == 0o700


# A progress line: the step, what it works on, and numbers only (no user's data).
PROGRESS = re.compile(
    r"^(load|load_files) (log|sql|email) \S+: "
    r"(\d+% \([\d.,]+ k?M?G?B of [\d.,]+ k?M?G?B\)|done, [\d.,]+ k?M?G?B \([\d,]+ rows\) in [\d.]+ s), "
    r"[\d.,]+ rows/s$"
)


def progress_lines(caplog) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "edxflow.progress"]
    assert all(PROGRESS.match(line) for line in lines), lines
    return lines


def test_a_load_of_many_days_logs_its_progress(tmp_path, monkeypatch, caplog):
    """A line per batch of days (every one here: no interval), then a final line with the rows."""
    import edxflow.core.progress
    import edxflow.warehouse.load

    monkeypatch.setattr(edxflow.warehouse.load, "DAY_BATCH", 2)
    monkeypatch.setattr(edxflow.core.progress, "EVERY", 0)
    names = [write_day(tmp_path, f"2021-01-0{day}", day) for day in range(1, 6)]
    total = sum((tmp_path / name).stat().st_size for name in names)
    with caplog.at_level(logging.INFO, logger="edxflow.progress"):
        load_course(settings(tmp_path), "log", BASE, tmp_path, names, tmp_path / "r.json")
    lines = progress_lines(caplog)
    percents = [int(line.split(": ")[1].split("%")[0]) for line in lines[:-1]]
    assert len(percents) == 3 and percents == sorted(percents) and percents[-1] == 100
    assert lines[-1].startswith(f"load log {BASE}: done, {format_bytes(total)} (15 rows) in ")

    caplog.clear()  # loaded again, nothing changed: all done at once, no rows
    with caplog.at_level(logging.INFO, logger="edxflow.progress"):
        load_course(settings(tmp_path), "log", BASE, tmp_path, names, tmp_path / "r2.json")
    assert progress_lines(caplog)[-1].startswith(
        f"load log {BASE}: done, {format_bytes(total)} (0 rows)"
    )


def test_a_days_load_logs_its_progress_over_its_courses(tmp_path, caplog):
    day = write_day(tmp_path, "2021-01-01", 4)
    receipt = tmp_path / "receipts" / "load" / "log" / "edx" / "2021-01-01.json"
    with caplog.at_level(logging.INFO, logger="edxflow.progress"):
        load_files(settings(tmp_path), "log", tmp_path, split_receipt(tmp_path, [day]), receipt)
    size = format_bytes((tmp_path / day).stat().st_size)
    lines = progress_lines(caplog)
    assert len(lines) == 1
    assert lines[0].startswith(f"load_files log edx/2021-01-01: done, {size} (4 rows) in ")


def test_the_summary_adds_up_each_unit_once_and_an_organisation_per_table(tmp_path, monkeypatch):
    """A day loaded again by a later receipt counts as that receipt says; past a hundred tables the
    summary gives each table over its datasets."""
    import edxflow.warehouse.load

    def receipt(name: str, courses: dict[str, dict[str, int]]) -> None:
        path = tmp_path / "receipts" / "load" / "log" / "edx" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "courses": {
                        base: {
                            "tables": {
                                "tracklog": {
                                    "dataset": f"{base}_logs",
                                    "units": {key: {"rows": rows} for key, rows in units.items()},
                                }
                            }
                        }
                        for base, units in courses.items()
                    }
                }
            )
        )
        time.sleep(0.01)

    receipt("2021-01-01.json", {"A": {"tracklog$20210101": 5}, "B": {"tracklog$20210101": 1}})
    receipt("2021-01-02.json", {"A": {"tracklog$20210101": 7, "tracklog$20210102": 2}})
    summary = warehouse_summary(tmp_path, settings(tmp_path))
    assert "A_logs.tracklog: 9 rows" in summary and "B_logs.tracklog: 1 rows" in summary
    monkeypatch.setattr(edxflow.warehouse.load, "SUMMARY_TABLES", 1)
    assert "  tracklog: 10 rows in 2 datasets" in warehouse_summary(tmp_path, settings(tmp_path))


# --- the newest data, and nothing else ------------------------------------------------------------


def write_email(results, rows: list[dict], date: str = "2021-06-06") -> list[str]:
    stem = f"EMAIL/{BASE}/email_opt_in-{date}"
    write_rows(results / f"{stem}.json.gz", rows)
    write_schema(results / f"{stem}.schema.json", shipped_schema("email_opt_in"))
    return [f"{stem}.json.gz", f"{stem}.schema.json"]


def latest_tables(results) -> set[str]:
    return {
        name
        for (name,) in query(
            results, f"SELECT table_name FROM duckdb_tables() WHERE schema_name = '{BASE}_latest'"
        )
    }


def test_a_table_gone_from_the_newest_bundle_is_dropped_and_the_email_table_stays(tmp_path):
    loads = tmp_path / "receipts" / "load"
    roles, forum = shipped_schema("roles"), [{"name": "thread_id", "type": "STRING"}]
    first = write_table(tmp_path, "roles", [{"course_id": COURSE}], roles) + write_table(
        tmp_path, "forum", [{"thread_id": "t"}], forum
    )
    assert (
        load_course(settings(tmp_path), "sql", BASE, tmp_path, first, loads / "sql" / "1.json")[
            "dropped"
        ]
        == []
    )
    load_course(
        settings(tmp_path),
        "email",
        BASE,
        tmp_path,
        write_email(tmp_path, [{"user_id": 1}]),
        loads / "email" / "1.json",
    )
    assert latest_tables(tmp_path) == {"_edxflow_loads", "roles", "forum", "email_opt_in"}

    newest = write_table(tmp_path, "roles", [{"course_id": COURSE}] * 2, roles, date="2021-06-13")
    receipt = load_course(
        settings(tmp_path), "sql", BASE, tmp_path, newest, loads / "sql" / "2.json"
    )

    assert receipt["dropped"] == ["forum"] and "forum" not in receipt["tables"]
    assert latest_tables(tmp_path) == {"_edxflow_loads", "roles", "email_opt_in"}
    assert query(tmp_path, f'SELECT count(*) FROM "{BASE}_latest".email_opt_in') == [(1,)]
    assert sorted(
        query(tmp_path, f'SELECT unit, file_type FROM "{BASE}_latest"._edxflow_loads')
    ) == [("email_opt_in", "email"), ("roles", "sql")]
    summary = warehouse_summary(tmp_path, settings(tmp_path))
    assert (
        f"{BASE}_latest.roles: 2 rows" in summary
        and "forum" not in summary
        and "email_opt_in: 1 rows" in summary
    )
    again = load_course(settings(tmp_path), "sql", BASE, tmp_path, newest, loads / "sql" / "3.json")
    assert again["dropped"] == [] and again["loaded"] == []


def test_a_bundle_with_no_table_left_drops_them_all(tmp_path):
    first = write_table(tmp_path, "roles", [{"course_id": COURSE}], shipped_schema("roles"))
    load_course(settings(tmp_path), "sql", BASE, tmp_path, first, tmp_path / "r1.json")
    receipt = load_course(settings(tmp_path), "sql", BASE, tmp_path, [], tmp_path / "r2.json")
    assert receipt["dropped"] == ["roles"] and latest_tables(tmp_path) == {"_edxflow_loads"}


def test_a_load_state_written_before_it_named_its_loads_still_drops_only_sql_tables(tmp_path):
    """A warehouse loaded by an earlier version: its state has no file_type; the email table is
    known by its name."""
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute(f'CREATE SCHEMA "{BASE}_latest"')
        connection.execute(
            f'CREATE TABLE "{BASE}_latest"._edxflow_loads '
            "(unit VARCHAR PRIMARY KEY, fingerprint VARCHAR, rows BIGINT, loaded_at TIMESTAMPTZ)"
        )
        for table in ("forum", "email_opt_in"):
            connection.execute(f'CREATE TABLE "{BASE}_latest".{table} (x INTEGER)')
            connection.execute(
                f'INSERT INTO "{BASE}_latest"._edxflow_loads VALUES (?, ?, 0, now())',
                [table, "old"],
            )
    files = write_table(tmp_path, "roles", [{"course_id": COURSE}], shipped_schema("roles"))
    receipt = load_course(settings(tmp_path), "sql", BASE, tmp_path, files, tmp_path / "r.json")
    assert receipt["dropped"] == ["forum"]
    assert latest_tables(tmp_path) == {"_edxflow_loads", "roles", "email_opt_in"}


# --- time zone, file modes, disk full ----------------------------------------------------------


def test_naive_timestamps_mean_utc_whatever_the_local_time_zone(tmp_path):
    """BigQuery reads a timestamp without an offset as UTC, and its days are UTC days; so are the
    warehouse's, run where the local time zone is another (a day's first hours are that day's)."""
    import subprocess
    import sys
    from pathlib import Path

    table = write_table(
        tmp_path,
        "problem_analysis",
        [{"course_id": COURSE, "created": "2021-06-01 23:30:00"}],
        shipped_schema("problem_analysis"),
    )
    day = f"TRACKING_LOGS/{BASE}/tracklog-2021-01-01.edx-2021-01-01.json.gz"
    write_rows(tmp_path / day, [dict(event("2021-01-01", 1), time="2021-01-01T02:00:00")])
    code = f"""
import sys
from edxflow.warehouse.load import load_course
from edxflow.warehouse.duckdb import DuckDBWarehouse
from edxflow.warehouse.settings import WarehouseSettings
settings = {settings(tmp_path)!r}
load_course(settings, "sql", {BASE!r}, {str(tmp_path)!r}, {table!r}, {str(tmp_path / "r1.json")!r})
load_course(settings, "log", {BASE!r}, {str(tmp_path)!r}, [{day!r}], {str(tmp_path / "r2.json")!r})
warehouse = DuckDBWarehouse(settings.path, {str(tmp_path)!r})
print(warehouse.connection.execute('SELECT created::VARCHAR FROM "{BASE}_latest".problem_analysis').fetchone()[0])
print(warehouse.connection.execute('SELECT count(*) FROM "{BASE}_logs".tracklog WHERE time::DATE = DATE \\'2021-01-01\\'').fetchone()[0])
warehouse.close(True)
"""
    scripts = str(Path(__file__).resolve().parents[1] / "scripts")
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, TZ="America/New_York", PYTHONPATH=scripts),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2021-06-01", "23:30:00+00", "1"]
    assert query(
        tmp_path, f"SELECT hour(time AT TIME ZONE 'UTC') FROM \"{BASE}_logs\".tracklog"
    ) == [(2,)]


def test_the_warehouse_and_its_wal_are_owner_only_from_the_start(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    names = [write_day(tmp_path, "2021-01-01", 2)]
    before = os.umask(0o022)
    try:
        warehouse = DuckDBWarehouse(path, tmp_path)
        load_units(warehouse, "log", BASE, tmp_path, names)
        warehouse.connection.execute(
            "COMMIT"
        )  # written to the WAL, which stays until the connection closes
        modes = {
            name: os.stat(tmp_path / name).st_mode & 0o777
            for name in ("warehouse.duckdb", "warehouse.duckdb.wal")
        }
        warehouse.connection.execute("BEGIN TRANSACTION")
        warehouse.close(True)
        assert os.umask(0o022) == 0o022  # given back as it was
    finally:
        os.umask(before)
    assert modes == {"warehouse.duckdb": 0o600, "warehouse.duckdb.wal": 0o600}


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB file system, for a warehouse that runs out of space."""
    with small_tmpfs(tmp_path / "small", "2m") as mount:
        yield mount


def test_a_full_disk_ends_the_load_with_one_message_and_the_warehouse_as_it_was(
    tmp_path, small_disk
):
    import uuid

    warehouse = WarehouseSettings("duckdb", path=str(small_disk / "warehouse.duckdb"))
    first = write_table(tmp_path, "roles", [{"course_id": COURSE}], shipped_schema("roles"))
    load_course(warehouse, "sql", BASE, tmp_path, first, tmp_path / "r1.json")
    rows = [{"course_id": uuid.uuid4().hex + uuid.uuid4().hex, "user_id": n} for n in range(60000)]
    newest = write_table(
        tmp_path, "roles", rows, shipped_schema("roles"), date="2021-06-13"
    ) + write_table(
        tmp_path,
        "forum",
        [{"thread_id": "t"}],
        [{"name": "thread_id", "type": "STRING"}],
        date="2021-06-13",
    )

    with pytest.raises(WarehouseError) as raised:
        load_course(warehouse, "sql", BASE, tmp_path, newest, tmp_path / "r2.json")

    message = str(raised.value)
    print(message)
    assert "\n" not in message and "no space left" in message.lower()
    assert (
        str(small_disk / "warehouse.duckdb") in message
        and "free space" in message
        and "run again" in message
    )
    assert not (tmp_path / "r2.json").exists()
    with duckdb.connect(warehouse.path, read_only=True) as connection:
        assert connection.execute(f'SELECT count(*) FROM "{BASE}_latest".roles').fetchall() == [
            (1,)
        ]
        assert connection.execute(
            f'SELECT unit FROM "{BASE}_latest"._edxflow_loads'
        ).fetchall() == [("roles",)]
    # space freed, the same load runs again (over what the failed commit left of the WAL)
    grow(small_disk, "64m")
    receipt = load_course(warehouse, "sql", BASE, tmp_path, newest, tmp_path / "r2.json")
    assert receipt["tables"]["roles"]["rows"] == 60000 and receipt["loaded"] == ["forum", "roles"]


def test_both_backends_are_warehouses(tmp_path):
    import inspect

    from edxflow.warehouse.bigquery import BigQueryWarehouse
    from edxflow.warehouse.interface import Warehouse

    methods = [
        "ensure_dataset",
        "read_state",
        "write_state",
        "drop_tables",
        "replace_tables",
        "replace_days",
        "run_query",
        "list_tables",
        "close",
    ]
    for backend in (DuckDBWarehouse, BigQueryWarehouse):
        for name in methods:
            assert inspect.signature(getattr(backend, name)).parameters.keys() == (
                inspect.signature(getattr(Warehouse, name)).parameters.keys()
            ), (backend.__name__, name)
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", tmp_path)
    try:
        assert isinstance(warehouse, Warehouse) and warehouse.kind == "duckdb"
    finally:
        warehouse.close(False)


def test_settings_are_built_once_from_the_config_or_the_command_line(tmp_path, monkeypatch):
    config = {"kind": "bigquery", "path": None, "project": "p", "location": "EU"}
    settings = WarehouseSettings.from_config(config, "bucket")
    assert settings == WarehouseSettings(
        "bigquery", project="p", location="EU", log_tables="partitioned", bucket="bucket"
    )
    assert settings.describe() == "BigQuery project p"
    with pytest.raises(AttributeError):
        settings.kind = "duckdb"  # frozen

    # load_files.py builds them alike from its command line and from the rule's params
    from types import SimpleNamespace

    import load_files as script

    seen = []
    monkeypatch.setattr(script, "load_files", lambda *args: seen.append(args) or {})
    assert (
        script.main(
            ["--results-dir", str(tmp_path), "--file-type", "log", "--input", "in.json"]
            + ["--receipt", "r.json", "--bigquery-project", "p", "--bucket", "b"]
        )
        == 0
    )
    job = SimpleNamespace(
        params=SimpleNamespace(
            warehouse={**config, "service_account_file": None, "log_tables": "partitioned"},
            bucket="b",
            results_dir=str(tmp_path),
        ),
        wildcards=SimpleNamespace(file_type="log"),
        input=SimpleNamespace(written="in.json"),
        output=SimpleNamespace(receipt="r.json"),
    )
    script.from_snakemake(job)
    assert seen[0][0] == WarehouseSettings("bigquery", project="p", bucket="b")
    assert seen[1][0] == WarehouseSettings("bigquery", project="p", location="EU", bucket="b")
    assert seen[0][1:] == seen[1][1:] == ("log", str(tmp_path), "in.json", "r.json")


def test_run_query_replaces_a_table_with_the_result(tmp_path):
    names = [write_day(tmp_path, "2021-01-01", 3), write_day(tmp_path, "2021-01-02", 2)]
    path = tmp_path / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path, tmp_path)
    try:
        load_units(warehouse, "log", BASE, tmp_path, names)
        warehouse.ensure_dataset("report", "reports")
        assert warehouse.list_tables("report") == []
        sql = (
            f'SELECT CAST(time AS DATE) AS day, count(*) AS events FROM "{BASE}_logs".tracklog '
            "GROUP BY 1"
        )
        assert warehouse.run_query(sql, "report", "per_day") == 2
        assert warehouse.run_query(f"{sql} HAVING count(*) > 2", "report", "per_day") == 1
        assert warehouse.run_query("SELECT 1 AS one", "report", "another") == 1
        with pytest.raises(WarehouseError, match=r"running a query into report\.per_day failed"):
            warehouse.run_query("SELECT nothing FROM nowhere", "report", "per_day")
    finally:
        warehouse.close(False)  # the failed query ended the transaction

    warehouse = DuckDBWarehouse(path, tmp_path)
    try:
        load_units(warehouse, "log", BASE, tmp_path, names)
        warehouse.ensure_dataset("report", "reports")
        warehouse.run_query("SELECT 1 AS one UNION ALL SELECT 2", "report", "another")
        assert warehouse.run_query("SELECT 7 AS seven", "report", "per_day") == 1
    finally:
        warehouse.close(True)
    assert query(tmp_path, 'SELECT * FROM "report".per_day') == [(7,)]
    assert query(tmp_path, 'SELECT count(*) FROM "report".another') == [(2,)]


def test_run_query_describes_the_columns_and_select_reads_rows(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", tmp_path)
    try:
        warehouse.ensure_dataset("report", "reports")
        descriptions = {"day": "The day (UTC), it's said", "absent": "no such column"}
        sql = "SELECT DATE '2021-01-02' AS day, 5 AS events UNION ALL SELECT DATE '2021-01-01', 3"
        assert warehouse.run_query(sql, "report", "per_day", descriptions) == 2
        assert warehouse.select(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'per_day' "
            "ORDER BY column_index"
        ) == [
            {"column_name": "day", "comment": "The day (UTC), it's said"},
            {"column_name": "events", "comment": None},
        ]
        assert warehouse.select('SELECT events FROM "report".per_day ORDER BY day') == [
            {"events": 3},
            {"events": 5},
        ]
        assert warehouse.bytes_processed is None
    finally:
        warehouse.close(True)


def test_list_tables_names_a_datasets_tables_without_the_load_state(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse = DuckDBWarehouse(path, tmp_path)
    try:
        assert warehouse.list_tables(f"{BASE}_logs") == []  # no such dataset
        load_units(warehouse, "log", BASE, tmp_path, [write_day(tmp_path, "2021-01-01", 3)])
        load_units(
            warehouse,
            "sql",
            BASE,
            tmp_path,
            write_table(tmp_path, "roles", [{"course_id": COURSE}], shipped_schema("roles"))
            + write_table(tmp_path, "forum", [{"x": "y"}], [{"name": "x", "type": "STRING"}]),
        )
        warehouse.run_query("SELECT 1 AS one", f"{BASE}_latest", "a_report")
        assert warehouse.list_tables(f"{BASE}_logs") == ["tracklog"]
        assert warehouse.list_tables(f"{BASE}_latest") == ["a_report", "forum", "roles"]
    finally:
        warehouse.close(True)
