"""The run report's tables, as CSV (every row, for a spreadsheet) and as a small self-contained HTML
page (what `snakemake --report` shows in its viewer). Both are written whole or not at all."""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path

from edxflow.core.atomic import atomic_path

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 13px; margin: 1em; color: #212121 }
h1 { font-size: 18px } h2 { font-size: 15px; margin-top: 1.5em }
p { max-width: 60em }
table { border-collapse: collapse; margin: 0.5em 0 }
th, td { border-bottom: 1px solid #e0e0e0; padding: 3px 10px; text-align: left; vertical-align: top }
th { background: #f5f5f5; position: sticky; top: 0 }
td.n { text-align: right; font-variant-numeric: tabular-nums }
"""


def _text(value) -> str:
    return "" if value is None else str(value)


def write_csv(path: str | Path, columns: list[str], rows: list[dict]) -> None:
    """`rows` (dicts) under a header of `columns`, in that order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(column)) for column in columns])
    with atomic_path(path, 0o644) as temporary:
        temporary.write_text(buffer.getvalue(), encoding="utf-8")


def html_table(columns: list[str], rows: list[dict], numeric: set[str] = frozenset()) -> str:
    """An HTML table of `rows`; `numeric` columns right-aligned, with thousands separators."""
    head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if column in numeric and isinstance(value, int | float):
                cells.append(f'<td class="n">{value:,}</td>')
            else:
                cells.append(f"<td>{html.escape(_text(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"
    )


def write_html(path: str | Path, title: str, sections: list[tuple[str, str, str]]) -> None:
    """A page titled `title` of sections (heading, a paragraph of plain text, HTML of a table)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, text, table in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if text:
            parts.append(f"<p>{html.escape(text)}</p>")
        parts.append(table)
    parts.append("</body></html>\n")
    with atomic_path(path, 0o644) as temporary:
        temporary.write_text("\n".join(parts), encoding="utf-8")
