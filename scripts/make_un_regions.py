"""Write the UN classification of countries the geoip table takes its un_* columns from
(scripts/edxflow/reports/data/un_regions.csv; its sources are in SOURCES.md beside it).

    pip download --no-deps hdx-python-country==4.2.5 && unzip -o hdx_python_country-4.2.5-*.whl
    python scripts/make_un_regions.py "hdx/location/Countries & Territories Taxonomy MVP - C&T Taxonomy.csv"

The regions come from that table's UN M49 columns; the least developed countries and the developed
regions are the UN lists written below, with their dates.
"""

import csv
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "edxflow" / "reports" / "data" / "un_regions.csv"
COLUMNS = (
    "cc",
    "m49",
    "name",
    "un_major_region",
    "continent",
    "un_economic_group",
    "un_developing_nation",
    "un_special_region",
)

# The UN list of least developed countries after São Tomé and Príncipe's graduation in December
# 2024 (UN-OHRLLS, Committee for Development Policy): 44 countries, by ISO 3166-1 alpha-2 code.
LEAST_DEVELOPED = set(
    "AO BJ BF BI CF TD KM CD DJ ER ET GM GN GW LS LR MG MW ML MR MZ NE RW SN SL SO SS SD TG UG TZ ZM "
    "AF BD KH LA MM NP TL YE HT KI SB TV".split()
)
# M49's "developed regions" (the designation the UN kept until 2021): Europe, Northern America,
# Japan, Australia and New Zealand.
DEVELOPED_REGIONS, DEVELOPED_SUBREGIONS, DEVELOPED_COUNTRIES = (
    {"Europe"},
    {"Northern America"},
    {
        "JP",
        "AU",
        "NZ",
    },
)
# simeon's spelling of three labels (his table's values, which existing queries filter on).
SIMEON_LABELS = {
    "South-eastern Asia": "South-Eastern Asia",
    "Sub-Saharan Africa": "Sub-Saharan-Africa",
}
SPECIAL_SUBREGIONS = {"Sub-Saharan Africa", "Latin America and the Caribbean"}
# Kosovo has no M49 entry of its own (the UN counts it with Serbia); MaxMind places IPs in `XK`.
EXTRA = {"XK": ("RS", "Kosovo")}


def classify(row: dict) -> dict:
    cc, region, subregion = (
        row["ISO 3166-1 Alpha 2-Codes"],
        row["Region Name"],
        row["Sub-region Name"],
    )
    intermediate = row["Intermediate Region Name"]
    # The M49 geographic regions simeon's table uses: the intermediate region where Africa and the
    # Americas have one (Channel Islands, a part of Northern Europe, is not one of them).
    major = intermediate if intermediate and intermediate != "Channel Islands" else subregion
    developed = (
        region in DEVELOPED_REGIONS
        or subregion in DEVELOPED_SUBREGIONS
        or cc in DEVELOPED_COUNTRIES
    )
    return {
        "cc": cc,
        "m49": row["m49 numerical code"].zfill(3),
        "name": row["M49 English"] or row["Preferred Term"],
        "un_major_region": SIMEON_LABELS.get(major, major),
        "continent": region,
        "un_economic_group": "Developed regions" if developed else "Developing_Nations",
        "un_developing_nation": "Least developed countries" if cc in LEAST_DEVELOPED else "",
        "un_special_region": SIMEON_LABELS.get(subregion, subregion)
        if subregion in SPECIAL_SUBREGIONS
        else "",
    }


def un_regions(taxonomy: Path) -> list[dict]:
    with taxonomy.open(encoding="utf-8") as handle:
        rows = [
            row
            for row in csv.DictReader(handle)
            if row["ISO 3166-1 Alpha 2-Codes"] and row["Region Name"] and row["Deprecated"] != "Y"
        ]
    by_code = {row["ISO 3166-1 Alpha 2-Codes"]: classify(row) for row in rows}
    for cc, (like, name) in EXTRA.items():
        by_code[cc] = {**by_code[like], "cc": cc, "m49": "", "name": name}
    missing = LEAST_DEVELOPED - by_code.keys()
    if missing:
        raise SystemExit(f"{taxonomy}: no row for the least developed countries {sorted(missing)}")
    return [by_code[cc] for cc in sorted(by_code)]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rows = un_regions(Path(argv[0]))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with OUTPUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{OUTPUT}: {len(rows)} countries and areas")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
