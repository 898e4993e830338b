"""A small MaxMind-format City database (.mmdb) of made-up places: the demo's, and the tests'."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

from edxflow.core.atomic import atomic_path

# The demo's learners come from the documentation networks (RFC 5737), which no real database
# places: the demo's own database puts each in a city, so that person_course shows geo columns.
DEMO_NETWORKS = {
    "192.0.2.0/24": {
        "city": "Cambridge",
        "country": ("US", "United States"),
        "continent": ("NA", "North America"),
        "subdivisions": [("MA", "Massachusetts")],
        "postal": "02139",
        "location": (42.3626, -71.0843),
    },
    "198.51.100.0/24": {
        "city": "Nairobi",
        "country": ("KE", "Kenya"),
        "continent": ("AF", "Africa"),
        "subdivisions": [("110", "Nairobi County")],
        "postal": "00100",
        "location": (-1.2833, 36.8167),
    },
    "203.0.113.0/24": {
        "city": "Dhaka",
        "country": ("BD", "Bangladesh"),
        "continent": ("AS", "Asia"),
        "subdivisions": [("C", "Dhaka Division"), ("13", "Dhaka")],
        "postal": "1000",
        "location": (23.7104, 90.4074),
    },
}


def city_record(place: Mapping) -> dict:
    """A GeoIP2 City record (names in English) from a place's city, (code, name) pairs and
    (latitude, longitude); a place without a city or subdivisions is a Country record."""
    record = {
        "country": {"iso_code": place["country"][0], "names": {"en": place["country"][1]}},
        "continent": {"code": place["continent"][0], "names": {"en": place["continent"][1]}},
    }
    if place.get("city"):
        record["city"] = {"names": {"en": place["city"]}}
    if place.get("subdivisions"):
        record["subdivisions"] = [
            {"iso_code": code, "names": {"en": name}} for code, name in place["subdivisions"]
        ]
    if place.get("postal"):
        record["postal"] = {"code": place["postal"]}
    if place.get("location"):
        latitude, longitude = place["location"]
        record["location"] = {"latitude": float(latitude), "longitude": float(longitude)}
    return record


def write_database(path: str | Path, networks: Mapping[str, Mapping]) -> Path:
    """An IPv6 database (IPv4 addresses found through ::/96) with a City record per network."""
    writer = MMDBWriter(
        ip_version=6,
        database_type="GeoLite2-City",
        languages=["en"],
        description="made-up places (edxflow demo and tests)",
        ipv4_compatible=True,
    )
    for network, place in networks.items():
        writer.insert_network(IPSet([network]), city_record(place))
    with atomic_path(path, mode=0o644) as temporary:
        writer.to_db_file(str(temporary))
    return Path(path)
