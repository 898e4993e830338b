"""Geolocation (issue 14 item 2): the modal IPs looked up in a MaxMind database written by the test
(mmdb-writer: IPv4 and IPv6 networks, a Country-only record, an IP in no network, private IPs),
each IP once, into `{org}_reports.geoip` with simeon's columns and the shipped UN ones, loaded from
a file and joined by the templates that read geo_table; the same rows on DuckDB and on the
BigQuery emulator; a missing or damaged database named; the run's note when there is no geo."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from edxflow.demo.geoip import write_database
from edxflow.reports.build import build_course, geoip_settings, table_ref
from edxflow.reports.geoip import UN_REGIONS, GeoIPError, places, schema
from edxflow.reports.graph import load_template
from edxflow.reports.summary import NO_GEO, report_summary
from edxflow.warehouse.bigquery import schema_fields
from edxflow.warehouse.google_cloud import bigquery_client
from edxflow.warehouse.load import warehouse_session
from edxflow.warehouse.settings import WarehouseSettings
from tests.helpers import report_warehouse

PROJECT = "test"
ORG = "geox"
DATASET = "geox_reports"
COURSES = {"GeoX/G1/2030": "GeoX__G1__2030_latest", "GeoX/G2/2030": "GeoX__G2__2030_latest"}
NETWORKS = {
    "81.2.69.0/24": {
        "city": "London",
        "country": ("GB", "United Kingdom"),
        "continent": ("EU", "Europe"),
        "subdivisions": [("ENG", "England"), ("IGL", "Islington")],
        "postal": "EC1A",
        "location": (51.5142, -0.0931),
    },
    "196.43.0.0/16": {
        "city": "Kampala",
        "country": ("UG", "Uganda"),
        "continent": ("AF", "Africa"),
        "location": (0.3136, 32.5811),
    },
    # a Country database's record: no city, subdivision, postal code or location
    "2a02:ec80::/32": {"country": ("DE", "Germany"), "continent": ("EU", "Europe")},
}
NOWHERE = dict.fromkeys(
    (field["name"] for field in schema() if field["name"] not in ("ip", "timestamp")), None
)
LONDON = {
    "city": "London",
    "countryLabel": "United Kingdom",
    "country": "GB",
    "cc_by_ip": "GB",
    "postalCode": "EC1A",
    "continent": "Europe",
    "subdivision": "Islington",  # the most specific subdivision, as simeon's
    "region": "IGL",
    "latitude": 51.5142,
    "longitude": -0.0931,
    "un_major_region": "Northern Europe",
    "un_economic_group": "Developed regions",
    "un_developing_nation": None,
    "un_special_region": None,
}
KAMPALA = {
    **NOWHERE,
    "city": "Kampala",
    "countryLabel": "Uganda",
    "country": "UG",
    "cc_by_ip": "UG",
    "continent": "Africa",
    "latitude": 0.3136,
    "longitude": 32.5811,
    "un_major_region": "Eastern Africa",
    "un_economic_group": "Developing_Nations",
    "un_developing_nation": "Least developed countries",
    "un_special_region": "Sub-Saharan-Africa",
}
GERMANY = {
    **NOWHERE,
    "countryLabel": "Germany",
    "country": "DE",
    "cc_by_ip": "DE",
    "continent": "Europe",
    "un_major_region": "Western Europe",
    "un_economic_group": "Developed regions",
}
# username -> modal IP, per course; 81.2.69.160 is in both
MODAL_IPS = {
    "GeoX/G1/2030": {"ann": "81.2.69.160", "bob": "2a02:ec80::1", "cy": "10.0.0.3", "di": None},
    "GeoX/G2/2030": {"ann": "81.2.69.160", "eve": "196.43.1.9", "fay": "1.1.1.1"},
}
EXPECTED = {
    "81.2.69.160": LONDON,
    "2a02:ec80::1": GERMANY,
    "10.0.0.3": NOWHERE,  # private
    "196.43.1.9": KAMPALA,
    "1.1.1.1": NOWHERE,  # in no network of the database
}
# A template reading geo_table as person_course does: each learner's city and country.
GEO_CHECK = """-- reads: course_modal_ip
SELECT m.username, {% if geo_table %}g.city, g.cc_by_ip{% else %}CAST(NULL AS STRING) AS city,
  CAST(NULL AS STRING) AS cc_by_ip{% endif %}
FROM {{ latest_dataset }}.course_modal_ip AS m
{% if geo_table %}LEFT JOIN {{ geo_table }} AS g ON g.ip = m.modal_ip{% endif %}
"""
MODAL_SCHEMA = [
    {"name": "username", "type": "STRING", "mode": "NULLABLE"},
    {"name": "modal_ip", "type": "STRING", "mode": "NULLABLE"},
]


def modal_rows(course_id: str) -> list[dict]:
    return [{"username": u, "modal_ip": ip} for u, ip in MODAL_IPS[course_id].items()]


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    return write_database(tmp_path_factory.mktemp("geoip") / "City.mmdb", NETWORKS)


def without_timestamps(rows: list[dict]) -> dict[str, dict]:
    return {
        row["ip"]: {k: v for k, v in row.items() if k not in ("ip", "timestamp")} for row in rows
    }


def test_lookups_ipv4_ipv6_a_country_record_no_network_and_private(database):
    rows = places(database, [*EXPECTED, "not an address"])
    assert without_timestamps(rows) == {**EXPECTED, "not an address": NOWHERE}
    assert [row["ip"] for row in rows] == sorted([*EXPECTED, "not an address"])
    assert list(rows[0]) == [field["name"] for field in schema()]


def test_the_un_classification_is_complete_and_current():
    with UN_REGIONS.open(encoding="utf-8") as handle:
        rows = {row["cc"]: row for row in csv.DictReader(handle)}
    assert len(rows) > 240 and all(len(cc) == 2 for cc in rows)
    assert {row["continent"] for row in rows.values()} == {
        "Africa",
        "Americas",
        "Asia",
        "Europe",
        "Oceania",
    }
    least = {cc for cc, row in rows.items() if row["un_developing_nation"]}
    assert len(least) == 44 and {"BT", "VU", "ST"}.isdisjoint(least)  # graduated
    assert rows["BR"]["un_special_region"] == "Latin America and the Caribbean"
    assert rows["US"]["un_economic_group"] == "Developed regions"


def test_a_missing_or_damaged_database_is_named(tmp_path):
    missing = tmp_path / "GeoLite2-City.mmdb"
    with pytest.raises(GeoIPError, match=f"{missing} does not exist: download a MaxMind"):
        places(missing, ["81.2.69.160"])
    missing.write_bytes(b"not a database\n" * 100)
    with pytest.raises(GeoIPError, match=f"{missing} is not a MaxMind database"):
        places(missing, ["81.2.69.160"])


def build(warehouse, tmp_path: Path, course_id: str, database) -> dict:
    template_file = tmp_path / "geo_check.sql"
    template_file.write_text(GEO_CHECK, encoding="utf-8")
    return build_course(
        warehouse,
        course_id=course_id,
        templates={"geo_check": load_template(template_file)},
        wanted=["geo_check"],
        receipt_path=tmp_path / "receipts" / f"{COURSES[course_id]}.json",
        geoip=geoip_settings({"database": str(database)}, ORG),
    )


def geo_rows(warehouse) -> list[dict]:
    return warehouse.select(f"SELECT * FROM {table_ref(warehouse, DATASET, 'geoip')} ORDER BY ip")


def checked_rows(warehouse, latest: str) -> list[tuple]:
    table = table_ref(warehouse, latest, "geo_check")
    rows = warehouse.select(f"SELECT username, city, cc_by_ip FROM {table} ORDER BY username")
    return [tuple(row.values()) for row in rows]


def run_both_courses(settings: WarehouseSettings, folder: Path, database: Path):
    """Course 1, then course 2 (sharing one IP): the geoip rows after each, the geo_check rows, the
    receipts."""
    receipts, after = {}, []
    for course_id in COURSES:
        with warehouse_session(settings, folder) as warehouse:
            receipts[course_id] = build(warehouse, folder, course_id, database)
            after.append(geo_rows(warehouse))
    with warehouse_session(settings, folder) as warehouse:
        checked = {c: checked_rows(warehouse, latest) for c, latest in COURSES.items()}
    return after, checked, receipts


EXPECTED_CHECK = {
    "GeoX/G1/2030": [
        ("ann", "London", "GB"),
        ("bob", None, "DE"),
        ("cy", None, None),
        ("di", None, None),
    ],
    "GeoX/G2/2030": [("ann", "London", "GB"), ("eve", "Kampala", "UG"), ("fay", None, None)],
}


def check_incremental(after, checked, receipts):
    first, second = after
    assert without_timestamps(first) == {
        ip: EXPECTED[ip] for ip in MODAL_IPS["GeoX/G1/2030"].values() if ip
    }
    assert without_timestamps(second) == EXPECTED
    # course 2's lookups added its two new IPs; the rows looked up for course 1 stay as they were
    kept = {row["ip"]: row for row in second}
    assert all(kept[row["ip"]] == row for row in first)
    assert len(second) == len(EXPECTED)
    assert checked == EXPECTED_CHECK
    for course_id, receipt in receipts.items():
        assert receipt["geo"] == {"source": "geoip", "table": receipt["geo"]["table"]}
        assert receipt["geo"]["table"].endswith(f"{DATASET}.geoip")
        assert "geoip" in receipt["tables"]["geo_check"]["inputs"]


def test_duckdb_looks_each_ip_up_once_through_a_file(database, tmp_path, caplog):
    inputs = {
        (latest, "course_modal_ip"): (MODAL_SCHEMA, modal_rows(c)) for c, latest in COURSES.items()
    }
    report_warehouse(tmp_path, inputs=inputs).close()
    settings = WarehouseSettings("duckdb", path=str(tmp_path / "warehouse.duckdb"))
    with caplog.at_level("INFO", logger="edxflow.reports"):
        after, checked, receipts = run_both_courses(settings, tmp_path, database)
    check_incremental(after, checked, receipts)
    looked_up = [r.getMessage() for r in caplog.records if r.getMessage().startswith("geoip:")]
    assert [m.split(" IP(s)")[0] for m in looked_up] == ["geoip: 3", "geoip: 2"]
    # no staging table or file left; the table's columns are described
    con = duckdb.connect(settings.path, read_only=True)
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [DATASET]
    ).fetchall()
    comments = dict(
        con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? AND table_name = 'geoip'",
            [DATASET],
        ).fetchall()
    )
    con.close()
    assert tables == [("geoip",)]
    assert comments["region"].startswith("The ISO 3166-2 code")
    assert not list((tmp_path / "reports").rglob("*.gz"))

    # again, with the database gone: every IP is known, so it is not opened; the places are the
    # same, so the fingerprint is too
    database_copy = tmp_path / "gone.mmdb"
    with warehouse_session(settings, tmp_path) as warehouse:
        again = build(warehouse, tmp_path, "GeoX/G1/2030", database_copy)
        assert geo_rows(warehouse) == after[1]
    inputs_before = receipts["GeoX/G1/2030"]["tables"]["geo_check"]["inputs"]["geoip"]
    assert again["tables"]["geo_check"]["inputs"]["geoip"] == inputs_before


def test_a_lookup_that_fails_names_the_course_and_the_database(tmp_path):
    latest = COURSES["GeoX/G1/2030"]
    report_warehouse(
        tmp_path, inputs={(latest, "course_modal_ip"): (MODAL_SCHEMA, modal_rows("GeoX/G1/2030"))}
    ).close()
    settings = WarehouseSettings("duckdb", path=str(tmp_path / "warehouse.duckdb"))
    with pytest.raises(GeoIPError) as raised:
        with warehouse_session(settings, tmp_path) as warehouse:
            build(warehouse, tmp_path, "GeoX/G1/2030", tmp_path / "nowhere.mmdb")
    message = str(raised.value)
    assert "GeoX/G1/2030" in message and "geo_check" in message and "nowhere.mmdb" in message
    receipt = json.loads((tmp_path / "receipts" / f"{latest}.json").read_text())
    assert receipt["failed"] == ["geo_check"]


def test_bigquery_gives_the_same_table(database, tmp_path, bigquery_server, monkeypatch):
    from google.cloud import bigquery

    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", bigquery_server.url)
    client = bigquery_client(PROJECT, None, None)
    for course_id, latest in COURSES.items():
        client.create_dataset(f"{PROJECT}.{latest}", exists_ok=True)
        config = bigquery.LoadJobConfig(schema=schema_fields(MODAL_SCHEMA))
        client.load_table_from_json(
            modal_rows(course_id), f"{PROJECT}.{latest}.course_modal_ip", job_config=config
        ).result(timeout=120)
    settings = WarehouseSettings("bigquery", project=PROJECT)
    after, checked, receipts = run_both_courses(settings, tmp_path, database)
    check_incremental(after, checked, receipts)
    assert all(isinstance(row["timestamp"], dt.datetime) for row in after[1])
    table = client.get_table(f"{PROJECT}.{DATASET}.geoip")
    assert [f.name for f in table.schema] == [f["name"] for f in schema()]
    assert [t.table_id for t in client.list_tables(f"{PROJECT}.{DATASET}")] == ["geoip"]
    client.close()


def test_the_run_says_once_when_geo_columns_stay_null(tmp_path):
    folder = tmp_path / "receipts" / "report"
    folder.mkdir(parents=True)
    receipt = {
        "order": ["person_course"],
        "rebuilt": ["person_course"],
        "unchanged": [],
        "skipped": [],
    }
    for base in ("A__1__2030", "B__1__2030"):
        (folder / f"{base}.json").write_text(json.dumps({**receipt, "geo": None}))
    summary = report_summary(tmp_path, ["A__1__2030", "B__1__2030"])
    assert summary.count(NO_GEO) == 1
    (folder / "B__1__2030.json").write_text(
        json.dumps({**receipt, "geo": {"source": "geoip", "table": "x.geoip"}})
    )
    (folder / "A__1__2030.json").write_text(
        json.dumps({**receipt, "geo": {"source": "geo_table", "table": "g.t"}})
    )
    assert NO_GEO not in report_summary(tmp_path, ["A__1__2030", "B__1__2030"])
