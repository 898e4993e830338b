"""One course of a weekly SQL bundle: decrypt its members straight from the zip, parse every table,
build the derived tables, and write them all under `SQL/{BASE}/{bundle_date}/` with a schema beside
each table. The directory is built under a temporary name and swapped in whole at the end.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import posixpath
import shutil
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

from edxflow.core.coerce import course_id_or_text
from edxflow.core.jsonl import TableWriter, shipped_schema, string_schema, write_rows, write_schema
from edxflow.core.progress import Progress
from edxflow.fetch.decrypt import (
    DecryptionError,
    ExpansionError,
    decrypt_stream,
    decrypted_stream,
    make_gpg,
    owner_only_dir,
    safe_member_path,
)
from edxflow.sql.bundle import index_bundle
from edxflow.sql.derived.course_axis import build_course_axis, build_grading_policy
from edxflow.sql.derived.forum import build_forum
from edxflow.sql.derived.grades import build_grades_persistent, build_grades_persistent_subsection
from edxflow.sql.derived.roles import build_roles
from edxflow.sql.derived.studentmodule import split_studentmodule_dump
from edxflow.sql.derived.user_info_combo import build_user_info_combo
from edxflow.sql.tsv import NonUtf8Count, read_tsv

log = logging.getLogger(__name__)

# Dumps replaced by their cleaned, typed form (the raw rows would only duplicate them).
CLEANED = {
    "courseware_studentmodule": "studentmodule",
    "grades_persistentcoursegrade": "grades_persistent",
    "grades_persistentsubsectiongrade": "grades_persistent_subsection",
}
TYPED = {
    "grades_persistent": build_grades_persistent,
    "grades_persistent_subsection": build_grades_persistent_subsection,
}
USER_TABLES = (
    "auth_user",
    "auth_userprofile",
    "student_courseenrollment",
    "certificates_generatedcertificate",
    "user_id_map",
)
# What bad data in a member raises while its tables are built: those tables are rejected, the
# course's others written. Anything else (a failing disk; a damaged member, or one for another
# key: DecryptionError) fails the course's job.
BAD_DATA = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    RecursionError,
    EOFError,
    zlib.error,
    tarfile.TarError,
    ExpansionError,
)
# A member's plaintext may be at most this many times its encrypted size (config key
# max_member_expansion; dumps compress 5-20 times), and is never refused below MIN_EXPANSION_BYTES.
MAX_EXPANSION = 200
MIN_EXPANSION_BYTES = 64 << 20


class CourseSplit:
    """The tables of one course as they are written: rows, schema and members, for the receipt.
    With a progress, each member's encrypted bytes (`pending`: member name -> bytes, set once the
    zip is open) count as done once its tables are written or rejected, the studentmodule dump's
    as it streams."""

    def __init__(
        self,
        workdir: Path,
        course_id: str,
        max_expansion: int = MAX_EXPANSION,
        min_expansion_bytes: int = MIN_EXPANSION_BYTES,
        progress: Progress | None = None,
    ):
        self.workdir = workdir
        self.course_id = course_id
        self.max_expansion = max_expansion
        self.min_expansion_bytes = min_expansion_bytes
        self.tables: dict[str, dict] = {}
        self.rejects: dict[str, list[dict]] = {}
        self.rejected_tables: dict[str, dict] = {}
        self.progress = progress
        self.pending: dict[str, int] = {}  # members not yet counted as done

    def finished(self, members: list[str]) -> None:
        """`members` are done with: their bytes count in the progress (once)."""
        done = sum(self.pending.pop(member, 0) for member in members)
        if self.progress is not None and done:
            self.progress.add(done)

    def streaming(self, member: str, source):
        """`source`, the member read once through a pipe: its bytes count as they are read."""
        self.pending.pop(member, None)
        return self.progress.reading(source) if self.progress is not None else source

    def limit(self, encrypted_bytes: int) -> int:
        """How many bytes the plaintext of a member of this size may have."""
        return max(self.min_expansion_bytes, self.max_expansion * encrypted_bytes)

    @contextlib.contextmanager
    def building(self, tables: tuple[str, ...], members: list[str]):
        """Bad data in `members` rejects `tables` (nothing of them is written); the block's
        failure is not the course's."""
        try:
            yield
        except BAD_DATA as error:
            self.reject_tables(tables, members, error)

    def reject_tables(self, tables: tuple[str, ...], members: list[str], error: Exception) -> None:
        reason = " ".join(
            f"{type(error).__name__}: {error}".split()
        )  # one line (tarfile's messages are several)
        if isinstance(error, ExpansionError):
            reason += (
                f". If the member is genuine, raise the config key max_member_expansion (now {self.max_expansion}"
                f": a member's plaintext may be {self.max_expansion} times its encrypted size, at least "
                f"{self.min_expansion_bytes / 2**20:g} MiB)"
            )
        for table in tables:
            self.rejected_tables[table] = {"members": members, "reason": reason}
        self.finished(members)
        log.warning(
            "%s: %s not written, rejected: cannot build %s from %s: %s",
            self.course_id,
            ", ".join(tables),
            "it" if len(tables) == 1 else "them",
            ", ".join(members),
            reason,
        )

    def write(
        self,
        table: str,
        rows,
        schema: list[dict],
        members: list[str],
        non_utf8: NonUtf8Count | None = None,
    ):
        count = write_rows(self.workdir / f"{table}.json.gz", rows)
        self.record(table, count, schema, members, non_utf8)

    def record(
        self,
        table: str,
        count: int,
        schema: list[dict],
        members: list[str],
        non_utf8: NonUtf8Count | None = None,
    ) -> None:
        write_schema(self.workdir / f"{table}.schema.json", schema)
        self.tables[table] = {
            "rows": count,
            "file": f"{table}.json.gz",
            "schema": f"{table}.schema.json",
            "members": members,
        }
        self.finished(members)
        if non_utf8 is not None:
            self.tables[table]["non_utf8"] = non_utf8.receipt()
            if non_utf8.bytes:
                log.warning(
                    "%s %s: %d bytes that are not UTF-8 replaced by U+FFFD, on %d lines of %s (first: %s)",
                    self.course_id,
                    table,
                    non_utf8.bytes,
                    non_utf8.lines,
                    ", ".join(members),
                    ", ".join(map(str, non_utf8.first_lines)),
                )

    def write_studentmodule(
        self,
        zip_path: str | Path,
        member: str,
        table: str,
        homedir: str | None,
        passphrase: str | None,
        max_bytes: int,
    ) -> None:
        """`table` (studentmodule or studentmodule_edge) and its problem_analysis in one pass over the
        largest dump of a course, decrypted from the zip through a pipe: its plaintext never touches the disk."""
        label = f"{zip_path} member {member}"
        analyses_table = "problem_analysis" + table.removeprefix("studentmodule")
        with self.building((table, analyses_table), [member]):
            # gpg's verdict (decrypted_stream's exit) comes before the tables are renamed into place
            with (
                TableWriter(self.workdir / f"{table}.json.gz") as modules,
                TableWriter(self.workdir / f"{analyses_table}.json.gz") as analyses,
                zipfile.ZipFile(zip_path) as archive,
                archive.open(member) as member_data,
                decrypted_stream(
                    self.streaming(member, member_data), label, homedir, passphrase, max_bytes
                ) as plain,
            ):
                reader = split_studentmodule_dump(plain, label, self.course_id, modules, analyses)
            self.record(
                table,
                modules.count,
                shipped_schema("studentmodule"),
                [member],
                reader.non_utf8_count,
            )
            self.record(
                analyses_table,
                analyses.count,
                shipped_schema("problem_analysis"),
                [member],
                reader.non_utf8_count,
            )
            self.reject(table, reader.rejects)

    def reject(self, table: str, rejects: list[dict]) -> None:
        if rejects:
            self.rejects.setdefault(table, []).extend(rejects)


def _is_known(member: dict) -> bool:
    """Members the split understands: table dumps, the forum, the structure and the OLX export."""
    table, ext = member["table"], member["ext"]
    return ext in ("sql", "mongo") or (table, ext) in (
        ("course_structure", "json"),
        ("course", "xml.tar.gz"),
    )


def table_name(member: dict, taken: set[str]) -> str:
    name = CLEANED.get(member["table"], member["table"])
    if member["ora"]:
        name = f"ora_{name}"
    if name in taken and member["site"] == "edge":
        name = f"{name}_edge"
    return name


def _normalised_course_ids(rows):
    """Dumps write course_id as course-v1:...; in the data it is Org/Num/Run."""
    for row in rows:
        value = row.get("course_id")
        if value:
            row["course_id"] = course_id_or_text(value)
        yield row


def _is_studentmodule(member: dict) -> bool:
    return (member["table"], member["ext"], member["ora"]) == (
        "courseware_studentmodule",
        "sql",
        False,
    )


def split_course(
    zip_path: str | Path,
    entry: dict,
    outdir: str | Path,
    homedir: str | None,
    passphrase: str | None,
    max_expansion: int = MAX_EXPANSION,
    min_expansion_bytes: int = MIN_EXPANSION_BYTES,
    summary: bool = True,
) -> dict:
    """Split one course (`entry` from the bundle index) into `outdir`; returns the receipt. Its
    progress (the members' bytes done) goes to the log every few seconds, and a final line
    unless not `summary` (one course of many in a job) and the course was quick."""
    started = time.monotonic()
    outdir = Path(outdir)
    course_id = entry["course_id"]
    gpg = make_gpg(homedir, passphrase)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    owner_only_dir(outdir.parent)
    workdir = Path(tempfile.mkdtemp(dir=outdir.parent, prefix=f".{outdir.name}."))
    plain = workdir / ".members"
    owner_only_dir(plain)
    progress = Progress("sql_course", course_id, 0, summary=summary)
    split = CourseSplit(workdir, course_id, max_expansion, min_expansion_bytes, progress)
    decrypted: dict[str, tuple[Path, str]] = {}  # table -> (plaintext, member name)
    streamed: list[
        tuple[str, str, int]
    ] = []  # (table, member name, its limit): read once, through a pipe
    other, refused, taken = [], [], set()
    try:
        with zipfile.ZipFile(zip_path) as archive:
            split.pending = _member_sizes(archive, entry["members"])
            progress.total = sum(split.pending.values())
            # edx before edge: the edge member of a table both sites have is the one named `{table}_edge`
            for member in sorted(entry["members"], key=lambda member: member["site"] == "edge"):
                name = member["name"]
                try:
                    relative = safe_member_path(name)
                except DecryptionError as error:
                    refused.append({"member": name, "reason": str(error)})
                    split.finished([name])
                    continue
                table = table_name(member, taken) if _is_known(member) else None
                if table is not None:
                    taken.add(table)
                limit = split.limit(archive.getinfo(name).file_size)
                if _is_studentmodule(member):
                    streamed.append((table, name, limit))
                    continue
                target = plain / posixpath.basename(relative).removesuffix(".gpg")
                try:
                    with archive.open(name) as stream:
                        decrypt_stream(
                            gpg, stream, f"{zip_path} member {name}", target, passphrase, limit
                        )
                except ExpansionError as error:
                    split.reject_tables((table or f"other/{target.name}",), [name], error)
                    continue
                if table is not None:
                    decrypted[table] = (target, name)
                else:
                    kept = workdir / "other" / target.name
                    owner_only_dir(kept.parent)
                    os.replace(target, kept)
                    other.append({"member": name, "file": f"other/{kept.name}"})
                    split.finished([name])
        for table, name, limit in streamed:
            split.write_studentmodule(zip_path, name, table, homedir, passphrase, limit)
        _write_tables(split, decrypted, workdir, course_id)
        shutil.rmtree(plain)
        _swap_in(workdir, outdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    split.finished(list(split.pending))  # members read but not tables of their own
    progress.finish()
    return {
        "bundle": Path(zip_path).name,
        "course_id": course_id,
        "base": entry["base"],
        "directory": str(outdir),
        "tables": split.tables,
        "rejected_tables": split.rejected_tables,
        "rejects": {
            table: {"rows": len(rows), "file": f"rejects/{table}.json.gz"}
            for table, rows in split.rejects.items()
        },
        "other": other,
        "refused": refused,
        "seconds": round(time.monotonic() - started, 3),
    }


def _member_sizes(archive: zipfile.ZipFile, members: list[dict]) -> dict[str, int]:
    """Member name -> its encrypted bytes in the zip (0 for one the zip lacks: that fails later,
    naming it)."""
    found = {info.filename: info.file_size for info in archive.infolist()}
    return {member["name"]: found.get(member["name"], 0) for member in members}


def _write_tables(split: CourseSplit, decrypted: dict, workdir: Path, course_id: str) -> None:
    def member_of(*tables):
        return [decrypted[t][1] for t in tables if t in decrypted]

    for table, (path, name) in decrypted.items():
        if path.name.endswith(".sql"):
            build = TYPED.get(table.removesuffix("_edge"))
            with split.building((table,), [name]):
                reader = read_tsv(path)
                if build is None:
                    split.write(
                        table,
                        _normalised_course_ids(reader),
                        string_schema(reader.columns),
                        [name],
                        reader.non_utf8_count,
                    )
                else:
                    split.write(
                        table,
                        build(reader, course_id),
                        shipped_schema(table.removesuffix("_edge")),
                        [name],
                        reader.non_utf8_count,
                    )
                split.reject(table, reader.rejects)
    for table in ("forum", "forum_edge"):
        if table in decrypted:
            path, name = decrypted[table]
            non_utf8 = NonUtf8Count()
            with split.building((table,), [name]), open(path, "rb") as lines:
                rows, rejects = build_forum(non_utf8.counted(lines), course_id)
                split.write(table, rows, shipped_schema("forum"), [name], non_utf8)
                split.reject(table, rejects)
    role_tables = ("student_courseaccessrole", "django_comment_client_role_users")
    if any(table in decrypted for table in role_tables):
        with split.building(("roles",), member_of(*role_tables)):
            rows = build_roles(*(_rows_of(decrypted, table) for table in role_tables), course_id)
            split.write("roles", rows, shipped_schema("roles"), member_of(*role_tables))
    if any(table in decrypted for table in USER_TABLES):
        with split.building(("user_info_combo",), member_of(*USER_TABLES)):
            tables = {
                table: _rows_of(decrypted, table) for table in USER_TABLES if table in decrypted
            }
            split.write(
                "user_info_combo",
                build_user_info_combo(tables, course_id),
                shipped_schema("user_info_combo"),
                member_of(*USER_TABLES),
            )
    structure_path = decrypted.get("course_structure", (None,))[0]
    olx = decrypted.get("course", (None,))[0]
    if olx is not None:
        os.replace(olx, workdir / "course.xml.tar.gz")
        olx = workdir / "course.xml.tar.gz"
    if structure_path is not None:
        os.replace(structure_path, workdir / "course_structure.json")
        with split.building(("course_axis",), member_of("course_structure", "course")):
            structure = json.loads((workdir / "course_structure.json").read_bytes())
            split.write(
                "course_axis",
                build_course_axis(structure, olx, course_id),
                shipped_schema("course_axis"),
                member_of("course_structure", "course"),
            )
    if olx is not None:
        with split.building(("grading_policy",), member_of("course")):
            split.write(
                "grading_policy",
                build_grading_policy(olx, course_id),
                shipped_schema("grading_policy"),
                member_of("course"),
            )
    for table, rejects in split.rejects.items():
        write_rows(workdir / "rejects" / f"{table}.json.gz", rejects)


def _rows_of(decrypted: dict, table: str):
    return read_tsv(decrypted[table][0]) if table in decrypted else iter(())


def _swap_in(workdir: Path, outdir: Path) -> None:
    """Replace `outdir` by `workdir` whole: readers see the old tables or the new, never a mix."""
    old = None
    if outdir.exists():
        old = outdir.with_name(f".{outdir.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(outdir, old)
    os.replace(workdir, outdir)
    os.chmod(outdir, 0o700)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def split_snapshot(
    zip_path: str | Path,
    sites: list[str],
    courses: list[str],
    sql_root: str | Path,
    course_receipts: str | Path | None,
    source_object: dict | None,
    gnupghome: str | None,
    passphrase: str | None,
    max_expansion: int = MAX_EXPANSION,
) -> dict:
    """Split every course of an older weekly bundle into `SQL/{BASE}/{date}/` (snapshots: all).
    A course already split from this very object (its `sql_course` receipt from the week the bundle
    was the newest) is not split again."""
    started = time.monotonic()
    index = index_bundle(zip_path, sites, courses, {"homedir": gnupghome, "passphrase": passphrase})
    date = Path(zip_path).name.removesuffix(".zip")[-10:]
    done = {}
    for entry in index["courses"]:
        earlier = Path(course_receipts) / f"{entry['base']}.json" if course_receipts else None
        receipt = json.loads(earlier.read_text()) if earlier and earlier.exists() else None
        reused = receipt is not None and receipt.get("source_object") == source_object
        if not reused:
            receipt = split_course(
                zip_path,
                entry,
                Path(sql_root) / entry["base"] / date,
                gnupghome,
                passphrase,
                max_expansion,
                summary=False,
            )
        done[entry["base"]] = {
            "course_id": entry["course_id"],
            "reused": str(earlier) if reused else None,
            "tables": {table: info["rows"] for table, info in receipt["tables"].items()},
            "rejected_tables": receipt.get("rejected_tables", {}),
        }
    return {
        "bundle": Path(zip_path).name,
        "source_object": source_object,
        "courses": done,
        "unmapped_members": index["unmapped_members"],
        "seconds": round(time.monotonic() - started, 3),
    }
