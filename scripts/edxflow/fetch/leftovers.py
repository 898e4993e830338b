"""What a killed run leaves behind and no job will ever take up: half-written files (`.{name}...part`,
from atomic writes and the log split), the scratch directories of SQL courses (`SQL/{BASE}/.{date}.*`,
decrypted members in `.members/`), decrypted daily logs and email CSVs whose split is done, and (when
the plan of a starting run is known) downloads no planned job reads. They hold personal data, so the
start and the end of every run remove them; no job runs then, and Snakemake's lock keeps other runs out."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def leftovers(
    results_dir: str | Path,
    keep_decrypted: bool,
    keep_encrypted: bool = True,
    needed: set[str] | None = None,
) -> list[Path]:
    """`needed`: the absolute paths the jobs of a starting run will read, never leftovers; given,
    downloads (`raw/`) that none of them reads are leftovers too, unless keep_encrypted."""
    results = Path(results_dir)
    found = set()
    for directory, subdirectories, files in os.walk(results):
        here = Path(directory)
        found.update(
            here / name for name in files if name.startswith(".") and name.endswith(".part")
        )
        if (
            here.parent.name == "SQL"
        ):  # a course directory: its dated tables and sql_course's scratch
            found.update(here / name for name in subdirectories if name.startswith("."))
    if not keep_decrypted:
        for path in results.glob("decrypted/log/*/*.log.gz"):
            day = path.name.removesuffix(".log.gz")
            if (
                results / "receipts" / "split_tracking_log" / path.parent.name / f"{day}.json"
            ).exists():
                found.add(path)
        for path in results.glob("decrypted/email/*"):
            if (results / "receipts" / "email_opt_in" / f"{path.name}.json").exists():
                found.add(path)
    if needed is not None:
        if not keep_encrypted:
            found.update(path for path in results.glob("raw/**/*") if path.is_file())
        found = {path for path in found if os.path.abspath(path) not in needed}
    return sorted(found)


def remove_leftovers(
    results_dir: str | Path,
    keep_decrypted: bool,
    keep_encrypted: bool = True,
    needed: set[str] | None = None,
) -> list[Path]:
    removed = leftovers(results_dir, keep_decrypted, keep_encrypted, needed)
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed
