"""What a killed run leaves behind and no job will ever take up: half-written files (`.{name}...part`,
from atomic writes and the log split), the scratch directories of SQL courses (`SQL/{BASE}/.{date}.*`)
and decrypted daily logs whose split is done. They hold personal data in plaintext, so the end of
every run removes them; no job runs then, and Snakemake's lock keeps other runs out."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def leftovers(results_dir: str | Path, keep_decrypted: bool) -> list[Path]:
    results = Path(results_dir)
    found = []
    for directory, subdirectories, files in os.walk(results):
        here = Path(directory)
        found += [here / name for name in files if name.startswith(".") and name.endswith(".part")]
        if here.parent.name == "SQL":  # a course directory: its dated tables and sql_course's scratch
            found += [here / name for name in subdirectories if name.startswith(".")]
    if not keep_decrypted:
        for path in results.glob("decrypted/log/*/*.log.gz"):
            day = path.name.removesuffix(".log.gz")
            if (results / "receipts" / "split_tracking_log" / path.parent.name / f"{day}.json").exists():
                found.append(path)
    return sorted(found)


def remove_leftovers(results_dir: str | Path, keep_decrypted: bool) -> list[Path]:
    removed = leftovers(results_dir, keep_decrypted)
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed
