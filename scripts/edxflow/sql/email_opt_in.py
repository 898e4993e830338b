"""The email opt-in file: every CSV member of the zip becomes rows of the `email_opt_in` table,
split per course (EMAIL/{BASE}/), with typed values and course ids in Org/Num/Run form."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import os
from collections import defaultdict
from pathlib import Path
from typing import Callable

from edxflow.core.atomic import write_json
from edxflow.core.courses import CourseIdError, base_names, normalize_course_id
from edxflow.core.errors import UserError
from edxflow.core.jsonl import shipped_schema, write_rows
from edxflow.fetch.decrypt import owner_only_dir


class EmailError(UserError, ValueError):
    pass


COLUMNS = (
    "user_id",
    "username",
    "email",
    "full_name",
    "course_id",
    "is_opted_in_for_email",
    "preference_set_datetime",
)


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
    return (
        True
        if lowered in ("true", "1", "yes")
        else False
        if lowered in ("false", "0", "no")
        else None
    )


def read_email_csv(path: str | Path):
    """(rows, rejects) of one decrypted CSV; a row that cannot be typed, or whose fields do not
    match the header's (a line cut short, surplus fields), is a reject with its line. A file whose
    header is not an email opt-in header raises EmailError."""
    rows, rejects = [], []
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(line.replace("\0", "") for line in handle)
        try:
            header = next(reader, [])
        except csv.Error as error:
            raise EmailError(
                f"{path}: the first line is not CSV ({error}): is it an email opt-in file?"
            ) from None
        missing = [column for column in ("user_id", "course_id") if column not in header]
        if missing:
            raise EmailError(
                f"{path}: no {', '.join(missing)} column in the header {header[:10]}: "
                "is it an email opt-in file?"
            )
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as error:  # the reader goes on at the next line
                rejects.append(
                    {
                        "file": str(path),
                        "line": reader.line_num,
                        "reason": f"not CSV: {error}",
                        "raw": None,
                    }
                )
                continue
            if not values:
                continue
            if len(values) != len(header):
                reason = f"{len(values)} fields where the header has {len(header)}"
                rejects.append(
                    {"file": str(path), "line": reader.line_num, "reason": reason, "raw": values}
                )
                continue
            row = dict(zip(header, values))
            try:
                user_id = int(row["user_id"])
                course_id = normalize_course_id(row["course_id"])
            except (ValueError, CourseIdError) as error:
                rejects.append(
                    {"file": str(path), "line": reader.line_num, "reason": str(error), "raw": row}
                )
                continue
            rows.append(
                {
                    "user_id": user_id,
                    "username": row.get("username"),
                    "email": row.get("email"),
                    "full_name": row.get("full_name"),
                    "course_id": course_id,
                    "is_opted_in_for_email": parse_boolean(row.get("is_opted_in_for_email")),
                    "preference_set_datetime": parse_timestamp(row.get("preference_set_datetime")),
                }
            )
    return rows, rejects


def split_email_opt_in(
    csv_paths: list[Path],
    outdir: str | Path,
    date: str,
    courses: list[str] | None = None,
    receipt_path: str | Path | None = None,
) -> dict:
    """Write EMAIL/{BASE}/email_opt_in-{date}.json.gz per course and the receipt, all or none;
    returns the receipt. A file that is not an email opt-in CSV (a README in the zip) is passed
    over, named in the receipt."""
    outdir = Path(outdir)
    by_course, rejects, read, passed_over = defaultdict(list), [], {}, []
    for path in sorted(csv_paths):
        try:
            rows, bad = read_email_csv(path)
        except EmailError as error:
            passed_over.append({"file": str(path), "reason": str(error)})
            continue
        read[str(path)] = len(rows) + len(bad)
        rejects += bad
        for row in rows:
            by_course[row["course_id"]].append(row)
    if passed_over and not read:
        raise EmailError(
            f"no email opt-in CSV among {len(passed_over)} file(s): "
            + "; ".join(item["reason"] for item in passed_over)
        )
    keep = set(courses) if courses else None
    filtered_out = sum(
        len(rows) for course, rows in by_course.items() if keep is not None and course not in keep
    )
    written, files = {}, {}
    schema = shipped_schema("email_opt_in")
    for course, base in base_names([c for c in by_course if keep is None or c in keep]).items():
        path = outdir / base / f"email_opt_in-{date}.json.gz"
        files[path] = functools.partial(write_rows, rows=by_course[course])
        schema_path = outdir / base / f"email_opt_in-{date}.schema.json"
        files[schema_path] = functools.partial(write_json, value=schema, mode=0o600)
        written[course] = {"rows": len(by_course[course]), "file": str(path)}
    if rejects:
        files[outdir / "rejects" / f"email_opt_in-{date}.json.gz"] = functools.partial(
            write_rows, rows=rejects
        )
    receipt = {
        "date": date,
        "inputs": read,
        "by_course": written,
        "rejected": len(rejects),
        "filtered_out": filtered_out,
        "passed_over": passed_over,
    }
    if receipt_path is not None:
        files[Path(receipt_path)] = functools.partial(write_json, value=receipt)
    write_all_or_none(files, f"the email opt-in tables of {date}", private=outdir)
    return receipt


def write_all_or_none(
    files: dict[Path, Callable[[Path], object]], what: str, private: Path
) -> None:
    """Write each file (target -> a writer given a path) under a temporary name, then rename them
    all into place: a failure (a full disk) leaves none of them new. Directories under `private`
    are made owner-only."""
    staged, renamed, target = [], [], None
    try:
        for target, write in files.items():
            if private in target.parents:
                owner_only_dir(target.parent)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.part")
            staged.append((temporary, target))
            write(temporary)
        for temporary, target in staged:
            existed = target.exists()
            os.replace(temporary, target)
            if not existed:
                renamed.append(target)
    except OSError as error:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for path in renamed:
            path.unlink(missing_ok=True)
        raise EmailError(
            f"cannot write {what}: {target}: {error.strerror or error}; nothing was written. "
            "Free space or fix the path and run again"
        ) from None
