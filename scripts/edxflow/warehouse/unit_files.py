"""Which per-course files one publish or load job works on, read from the receipt of the step that
wrote them: a daily log's split, a course's newest SQL tables, or an email opt-in file.

Paths are relative to the results directory (`TRACKING_LOGS/{BASE}/...`, `SQL/{BASE}/{date}/...`,
`EMAIL/{BASE}/...`), whatever directory the writing step was given.
"""

from __future__ import annotations

import json
from pathlib import Path

LOCAL_ROOTS = {"log": "TRACKING_LOGS", "sql": "SQL", "email": "EMAIL"}
# Directories of a split beside the courses' own: events of no course, and rejected lines.
_NOT_COURSES = {"no_course", "rejects"}


def from_root(path: str, file_type: str) -> str:
    """`any/where/SQL/B/2021-01-03/t.json.gz` -> `SQL/B/2021-01-03/t.json.gz`."""
    parts = Path(path).parts
    root = LOCAL_ROOTS[file_type]
    if root not in parts:
        raise ValueError(f"{path} is not under a {root}/ directory")
    at = len(parts) - 1 - parts[::-1].index(root)
    return str(Path(*parts[at:]))


def schema_beside(relative: str) -> str:
    return relative.removesuffix(".json.gz") + ".schema.json"


def unit_files(file_type: str, receipt_path: str | Path) -> dict[str, list[str]]:
    """Course base name -> its files in the unit (tables with their schemas beside them)."""
    receipt = json.loads(Path(receipt_path).read_text())
    courses: dict[str, list[str]] = {}
    if file_type == "log":
        for output in receipt["outputs"]:
            relative = from_root(output["path"], "log")
            _, base, name = relative.split("/")
            if base not in _NOT_COURSES and name.startswith("tracklog-"):
                courses.setdefault(base, []).append(relative)
    elif file_type == "sql":
        directory = from_root(receipt["directory"], "sql")
        courses[receipt["base"]] = [
            f"{directory}/{info[key]}"
            for info in receipt["tables"].values()
            for key in ("file", "schema")
        ]
    elif file_type == "email":
        for info in receipt["by_course"].values():
            relative = from_root(info["file"], "email")
            courses[relative.split("/")[1]] = [relative, schema_beside(relative)]
    else:
        raise ValueError(f"unknown file type {file_type!r}")
    return {base: sorted(files) for base, files in sorted(courses.items())}


def log_partition_files(results_dir: str | Path, base: str, day: str) -> list[str]:
    """Every split file holding a course's events of one day: edx and edge files of that day, and
    with dynamic_date the neighbouring days' files too."""
    directory = Path(results_dir) / LOCAL_ROOTS["log"] / base
    return sorted(
        str(path.relative_to(results_dir)) for path in directory.glob(f"tracklog-{day}.*.json.gz")
    )
