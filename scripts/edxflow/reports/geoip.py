"""Where the learners' modal IPs are: a MaxMind City or Country database (`reports.geoip.database`)
asked for each IP once, the answers kept in the organisation's table `{org}_reports.geoip`.

A course's job asks, after its course_modal_ip is built, for the modal IPs that table lacks; the new
rows go to the warehouse as a file (an owner-only gzip JSON-lines file under the results folder,
removed once loaded), never as SQL literals, then join the table. An IP the database does not place
(a private address, a network it lacks) gets a row with NULL places, so it is not asked again; to
ask every IP again with a newer database, drop the table.

The columns are simeon's (`simeon-geoip extract`): the place from MaxMind (its most specific
subdivision: `subdivision` its English name, `region` its ISO code), and `continent` plus the
`un_*` columns from the UN classification shipped in data/un_regions.csv (see SOURCES.md there).
"""

from __future__ import annotations

import csv
import datetime
import functools
import hashlib
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path

import maxminddb

from edxflow.core.errors import UserError
from edxflow.core.jsonl import write_rows
from edxflow.warehouse.plan import Unit

log = logging.getLogger("edxflow.reports")

TABLE = "geoip"
UN_REGIONS = Path(__file__).resolve().parent / "data" / "un_regions.csv"
SCHEMA_FILE = Path(__file__).resolve().parents[3] / "sql/schemas/reports/organisation/geoip.json"
UN_COLUMNS = ("un_major_region", "un_economic_group", "un_developing_nation", "un_special_region")


class GeoIPError(UserError):
    """The geolocation database cannot be read."""


@functools.cache
def un_regions(path: Path = UN_REGIONS) -> dict[str, dict[str, str]]:
    """ISO country code -> its UN continent and un_* columns."""
    with path.open(encoding="utf-8") as handle:
        return {row["cc"]: row for row in csv.DictReader(handle)}


@functools.cache
def schema() -> list[dict]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def descriptions() -> dict[str, str]:
    return {field["name"]: field["description"] for field in schema()}


def open_database(path: str | Path) -> maxminddb.Reader:
    path = Path(path)
    if not path.is_file():
        raise GeoIPError(
            f"reports.geoip.database: {path} does not exist: download a MaxMind GeoIP2 or GeoLite2 "
            "City (or Country) database (.mmdb) and give its path, or remove reports.geoip"
        )
    try:
        return maxminddb.open_database(str(path))
    except (maxminddb.InvalidDatabaseError, ValueError, OSError) as error:
        raise GeoIPError(
            f"reports.geoip.database: {path} is not a MaxMind database ({error}): give a GeoIP2 "
            "or GeoLite2 City or Country .mmdb file"
        ) from None


def _english(part) -> str | None:
    return ((part or {}).get("names") or {}).get("en")


def place(reader: maxminddb.Reader, ip: str, timestamp: str) -> dict:
    """The geoip row of one IP: NULL places for an IP the database does not place, or text that is
    not an IP address."""
    try:
        record = reader.get(ip) or {}
    except ValueError:
        record = {}
    if not isinstance(record, dict):
        record = {}
    country = record.get("country") or {}
    code = country.get("iso_code")
    subdivisions = record.get("subdivisions") or [{}]
    location = record.get("location") or {}
    un = un_regions().get(code or "", {})
    return {
        "ip": ip,
        "city": _english(record.get("city")),
        "countryLabel": _english(country),
        "country": code,
        "postalCode": (record.get("postal") or {}).get("code"),
        "continent": un.get("continent") or _english(record.get("continent")),
        "subdivision": _english(subdivisions[-1]),
        "region": subdivisions[-1].get("iso_code"),
        "cc_by_ip": code,
        **{column: un.get(column) or None for column in UN_COLUMNS},
        "latitude": location.get("latitude"),
        "longitude": location.get("longitude"),
        "timestamp": timestamp,
    }


def places(database: str | Path, ips: Iterable[str]) -> list[dict]:
    timestamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with open_database(database) as reader:
        return [place(reader, ip, timestamp) for ip in sorted(set(ips))]


def _fingerprint(rows: list[dict]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(sorted(row.items())).encode("utf-8"))
    return digest.hexdigest()


def refresh_geoip(
    warehouse, dataset: str, latest: str, base: str, database: str | Path
) -> tuple[str, str]:
    """Look up the modal IPs of the course (`latest.course_modal_ip`) that `dataset.geoip` lacks
    and add them to it; returns the table as the templates name it and the fingerprint of the
    course's rows in it (person_course is built again when they change)."""
    from edxflow.reports.build import qualified, table_ref

    warehouse.ensure_dataset(dataset, "the organisation's report tables (edxflow)")
    modal = table_ref(warehouse, latest, "course_modal_ip")
    geo = table_ref(warehouse, dataset, TABLE)
    exists = TABLE in warehouse.list_tables(dataset)
    lacking = f"SELECT DISTINCT m.modal_ip AS ip FROM {modal} AS m WHERE m.modal_ip IS NOT NULL"
    if exists:
        lacking += f" AND m.modal_ip NOT IN (SELECT g.ip FROM {geo} AS g WHERE g.ip IS NOT NULL)"
    missing = [row["ip"] for row in warehouse.select(lacking)]
    if missing:
        rows = places(database, missing)
        _append(warehouse, dataset, base, rows, exists)
        placed = sum(row["cc_by_ip"] is not None for row in rows)
        log.info(
            "geoip: %d IP(s) looked up in %s (%d placed) into %s.%s",
            len(rows),
            database,
            placed,
            dataset,
            TABLE,
        )
    course_rows = warehouse.select(
        f"SELECT g.ip, g.timestamp FROM {geo} AS g "
        f"WHERE g.ip IN (SELECT m.modal_ip FROM {modal} AS m) ORDER BY g.ip, g.timestamp"
    )
    return f"{qualified(warehouse, dataset)}.{TABLE}", _fingerprint(course_rows)


def _append(warehouse, dataset: str, base: str, rows: list[dict], exists: bool) -> None:
    """Add the rows to the table: loaded from a file into a staging table of this course, then the
    table replaced at once by its rows and the staged rows it lacks."""
    from edxflow.reports.build import table_ref

    staging = f"_edxflow_geoip_{re.sub(r'[^A-Za-z0-9_]', '_', base)}"
    relative = Path("reports", "geoip", f"{staging}.json.gz")
    path = warehouse.results_dir / relative
    write_rows(path, rows)
    try:
        unit = Unit(dataset=dataset, table=staging, files=[str(relative)], schema=schema())
        warehouse.replace_tables([unit], {})
        staged, geo = table_ref(warehouse, dataset, staging), table_ref(warehouse, dataset, TABLE)
        columns = ", ".join(field["name"] for field in schema())
        sql = f"SELECT {columns} FROM {staged}"
        if exists:
            sql = (
                f"SELECT {columns} FROM {geo} UNION ALL SELECT {columns} FROM {staged} "
                f"WHERE ip NOT IN (SELECT ip FROM {geo} WHERE ip IS NOT NULL)"
            )
        warehouse.run_query(sql, dataset, TABLE, descriptions())
        warehouse.drop_tables(dataset, [staging])
        warehouse.commit()
    finally:
        path.unlink(missing_ok=True)
