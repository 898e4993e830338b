"""The email opt-in file: every CSV member of the zip becomes rows of the `email_opt_in` table,
split per course (EMAIL/{BASE}/), with typed values and course ids in Org/Num/Run form."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

from .courses import CourseIdError, base_names, normalize_course_id
from .jsonl import shipped_schema, write_rows, write_schema

class EmailError(ValueError):
    pass


COLUMNS = ("user_id", "username", "email", "full_name", "course_id", "is_opted_in_for_email", "preference_set_datetime")


def parse_timestamp(value: str | None) -> str | None:
    """`2021-01-03 10:00:00.000000+00:00` (and variants) as ISO 8601, or None."""
    if not value or value.upper() == "NULL":
        return None
    try:
        return dt.datetime.fromisoformat(value.strip().replace(" UTC", "+00:00")).isoformat()
    except ValueError:
        return None


def parse_boolean(value: str | None) -> bool | None:
    lowered = (value or "").strip().lower()
    return True if lowered in ("true", "1", "yes") else False if lowered in ("false", "0", "no") else None


def read_email_csv(path: str | Path):
    """(rows, rejects) of one decrypted CSV; a row that cannot be typed is a reject with its line."""
    rows, rejects = [], []
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader((line.replace("\0", "") for line in handle))
        missing = [column for column in ("user_id", "course_id") if column not in (reader.fieldnames or [])]
        if missing:
            raise EmailError(f"{path}: no {', '.join(missing)} column in the header {reader.fieldnames}: is it an email opt-in file?")
        for row in reader:
            line = reader.line_num
            try:
                user_id = int(row["user_id"])
                course_id = normalize_course_id(row["course_id"])
            except (TypeError, ValueError, CourseIdError) as error:
                rejects.append({"file": str(path), "line": line, "reason": str(error), "raw": row})
                continue
            rows.append({
                "user_id": user_id, "username": row.get("username"), "email": row.get("email"),
                "full_name": row.get("full_name"), "course_id": course_id,
                "is_opted_in_for_email": parse_boolean(row.get("is_opted_in_for_email")),
                "preference_set_datetime": parse_timestamp(row.get("preference_set_datetime")),
            })
    return rows, rejects


def split_email_opt_in(csv_paths: list[Path], outdir: str | Path, date: str, courses: list[str] | None = None) -> dict:
    """Write EMAIL/{BASE}/email_opt_in-{date}.json.gz per course; returns the receipt."""
    outdir = Path(outdir)
    by_course, rejects, read = defaultdict(list), [], {}
    for path in sorted(csv_paths):
        rows, bad = read_email_csv(path)
        read[str(path)] = len(rows) + len(bad)
        rejects += bad
        for row in rows:
            by_course[row["course_id"]].append(row)
    keep = set(courses) if courses else None
    filtered_out = sum(len(rows) for course, rows in by_course.items() if keep is not None and course not in keep)
    written = {}
    schema = shipped_schema("email_opt_in")
    for course, base in base_names([c for c in by_course if keep is None or c in keep]).items():
        path = outdir / base / f"email_opt_in-{date}.json.gz"
        count = write_rows(path, by_course[course])
        write_schema(outdir / base / f"email_opt_in-{date}.schema.json", schema)
        written[course] = {"rows": count, "file": str(path)}
    if rejects:
        write_rows(outdir / "rejects" / f"email_opt_in-{date}.json.gz", rejects)
    return {"date": date, "inputs": read, "by_course": written, "rejected": len(rejects),
            "filtered_out": filtered_out}
