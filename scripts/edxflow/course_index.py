"""Which per-course files exist for a file type: what `publish` uploads and `load` loads.

Paths are relative to the results directory. Tracking logs: every `tracklog-*.json.gz` under
`TRACKING_LOGS/{BASE}/` (days split in earlier runs included, so a run that adds a day keeps the
others). SQL: the tables of each course's newest bundle (`manifests/sql/latest.json`), each with its
schema beside it. Email: each course's newest `email_opt_in-{date}.json.gz` and its schema.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .atomic import write_json

LOCAL_ROOTS = {"log": "TRACKING_LOGS", "sql": "SQL", "email": "EMAIL"}
_EMAIL_FILE = re.compile(r"email_opt_in-(\d{4}-\d{2}-\d{2})\.json\.gz")


def _course_dirs(root: Path) -> list[Path]:
    # course directories always contain `__`; no_course/, rejects/ and .index/ never do
    return sorted(path for path in root.iterdir() if path.is_dir() and "__" in path.name) if root.is_dir() else []


def _relative(paths, results_dir: Path) -> list[str]:
    return sorted(str(path.relative_to(results_dir)) for path in paths)


def log_files(results_dir: Path) -> dict[str, list[str]]:
    courses = {}
    for directory in _course_dirs(results_dir / LOCAL_ROOTS["log"]):
        files = list(directory.glob("tracklog-*.json.gz"))
        if files:
            courses[directory.name] = _relative(files, results_dir)
    return courses


def table_files(directory: Path, results_dir: Path) -> list[str]:
    """The tables of one directory that have a schema beside them, with their schemas."""
    files = []
    for table in directory.glob("*.json.gz"):
        schema = table.with_name(table.name.removesuffix(".json.gz") + ".schema.json")
        if schema.exists():
            files += [table, schema]
    return _relative(files, results_dir)


def sql_files(results_dir: Path, latest_path: Path) -> dict[str, list[str]]:
    latest = json.loads(latest_path.read_text()) if latest_path.exists() else {}
    courses = {}
    for entry in latest.values():
        directory = results_dir / LOCAL_ROOTS["sql"] / entry["base"] / entry["date"]
        files = table_files(directory, results_dir) if directory.is_dir() else []
        if files:
            courses[entry["base"]] = files
    return dict(sorted(courses.items()))


def email_files(results_dir: Path) -> dict[str, list[str]]:
    courses = {}
    for directory in _course_dirs(results_dir / LOCAL_ROOTS["email"]):
        dated = sorted(
            (match.group(1), path)
            for path in directory.glob("email_opt_in-*.json.gz")
            if (match := _EMAIL_FILE.fullmatch(path.name))
        )
        if dated:
            newest = dated[-1][1]
            schema = newest.with_name(newest.name.removesuffix(".json.gz") + ".schema.json")
            courses[directory.name] = _relative([newest] + ([schema] if schema.exists() else []), results_dir)
    return courses


def course_index(results_dir: str | Path, file_type: str, output: str | Path) -> dict:
    results_dir = Path(results_dir)
    if file_type == "log":
        courses = log_files(results_dir)
    elif file_type == "sql":
        courses = sql_files(results_dir, results_dir / "manifests" / "sql" / "latest.json")
    elif file_type == "email":
        courses = email_files(results_dir)
    else:
        raise ValueError(f"unknown file type {file_type!r}")
    index = {"file_type": file_type, "courses": courses}
    write_json(output, index)
    return index


def read_index(path: str | Path) -> dict[str, list[str]]:
    return json.loads(Path(path).read_text())["courses"]


def results_relative(paths: list[str], file_type: str) -> tuple[str, list[str]]:
    """(results directory, names relative to it) of per-course files given as paths, as a rule's
    inputs are: the directory is what precedes the file type's root (TRACKING_LOGS, SQL, EMAIL)."""
    root = LOCAL_ROOTS[file_type]
    results_dir, names = None, []
    for path in paths:
        parts = Path(path).parts
        at = len(parts) - 1 - parts[::-1].index(root)
        here = str(Path(*parts[:at])) if at else "."
        if results_dir not in (None, here):
            raise ValueError(f"{path} is not under {results_dir}")
        results_dir = here
        names.append(str(Path(*parts[at:])))
    return results_dir or ".", names
