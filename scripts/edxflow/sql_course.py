"""One course of a weekly SQL bundle: decrypt its members straight from the zip, parse every table,
build the derived tables, and write them all under `SQL/{BASE}/{bundle_date}/` with a schema beside
each table. The directory is built under a temporary name and swapped in whole at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from .bundle import BundleError, index_bundle
from .coerce import course_id_or_text
from .decrypt import DecryptionError, decrypt_stream, decrypted_stream, make_gpg, owner_only_dir, safe_member_path
from .derived.course_axis import build_course_axis, build_grading_policy
from .derived.forum import build_forum
from .derived.grades import build_grades_persistent, build_grades_persistent_subsection
from .derived.roles import build_roles
from .derived.studentmodule import split_studentmodule_dump
from .derived.user_info_combo import build_user_info_combo
from .jsonl import TableWriter, shipped_schema, string_schema, write_rows, write_schema
from .tsv import read_tsv

# Dumps replaced by their cleaned, typed form (the raw rows would only duplicate them).
CLEANED = {
    "courseware_studentmodule": "studentmodule",
    "grades_persistentcoursegrade": "grades_persistent",
    "grades_persistentsubsectiongrade": "grades_persistent_subsection",
}
USER_TABLES = ("auth_user", "auth_userprofile", "student_courseenrollment", "certificates_generatedcertificate", "user_id_map")


class CourseSplit:
    """The tables of one course as they are written: rows, schema and members, for the receipt."""

    def __init__(self, workdir: Path, course_id: str):
        self.workdir = workdir
        self.course_id = course_id
        self.tables: dict[str, dict] = {}
        self.rejects: dict[str, list[dict]] = {}

    @contextlib.contextmanager
    def building(self, table: str, members: list[str]):
        """A builder's failure on bad data names the course, the table and the members."""
        try:
            yield
        except (ValueError, KeyError, TypeError, OSError, tarfile.TarError) as error:
            raise BundleError(
                f"{self.course_id}: cannot build {table} from {', '.join(members)}: {type(error).__name__}: {error}"
            ) from error

    def write(self, table: str, rows, schema: list[dict], members: list[str]) -> None:
        with self.building(table, members):
            count = write_rows(self.workdir / f"{table}.json.gz", rows)
        self.record(table, count, schema, members)

    def record(self, table: str, count: int, schema: list[dict], members: list[str]) -> None:
        write_schema(self.workdir / f"{table}.schema.json", schema)
        self.tables[table] = {"rows": count, "file": f"{table}.json.gz", "schema": f"{table}.schema.json",
                              "members": members}

    def write_studentmodule(self, zip_path: str | Path, member: str, homedir: str | None, passphrase: str | None) -> None:
        """studentmodule and problem_analysis in one pass over the largest dump of a course,
        decrypted from the zip through a pipe: its plaintext never touches the disk."""
        label = f"{zip_path} member {member}"
        with self.building("studentmodule", [member]), zipfile.ZipFile(zip_path) as archive, \
                archive.open(member) as source, decrypted_stream(source, label, homedir, passphrase) as plain:
            with TableWriter(self.workdir / "studentmodule.json.gz") as modules, \
                    TableWriter(self.workdir / "problem_analysis.json.gz") as analyses:
                reader = split_studentmodule_dump(plain, label, self.course_id, modules, analyses)
        self.record("studentmodule", modules.count, shipped_schema("studentmodule"), [member])
        self.record("problem_analysis", analyses.count, shipped_schema("problem_analysis"), [member])
        self.reject("studentmodule", reader.rejects)

    def reject(self, table: str, rejects: list[dict]) -> None:
        if rejects:
            self.rejects.setdefault(table, []).extend(rejects)


def _is_known(member: dict) -> bool:
    """Members the split understands: table dumps, the forum, the structure and the OLX export."""
    table, ext = member["table"], member["ext"]
    return ext in ("sql", "mongo") or (table, ext) in (("course_structure", "json"), ("course", "xml.tar.gz"))


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


def split_course(zip_path: str | Path, entry: dict, outdir: str | Path, homedir: str | None,
                 passphrase: str | None) -> dict:
    """Split one course (`entry` from the bundle index) into `outdir`; returns the receipt."""
    started = time.monotonic()
    outdir = Path(outdir)
    course_id = entry["course_id"]
    gpg = make_gpg(homedir, passphrase)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    owner_only_dir(outdir.parent)
    workdir = Path(tempfile.mkdtemp(dir=outdir.parent, prefix=f".{outdir.name}."))
    plain = workdir / ".members"
    owner_only_dir(plain)
    split = CourseSplit(workdir, course_id)
    decrypted: dict[str, tuple[Path, str]] = {}  # table -> (plaintext, member name)
    other, refused = [], []
    streamed = None
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for member in entry["members"]:
                name = member["name"]
                try:
                    relative = safe_member_path(name)
                except DecryptionError as error:
                    refused.append({"member": name, "reason": str(error)})
                    continue
                studentmodule = (member["table"], member["ext"], member["ora"]) == ("courseware_studentmodule", "sql", False)
                if studentmodule and streamed is None:
                    streamed = name  # read once: decrypted through a pipe when its tables are built
                    continue
                target = plain / posixpath.basename(relative).removesuffix(".gpg")
                with archive.open(name) as stream:
                    decrypt_stream(gpg, stream, f"{zip_path} member {name}", target, passphrase)
                if _is_known(member):
                    decrypted[table_name(member, set(decrypted))] = (target, name)
                else:
                    kept = workdir / "other" / target.name
                    owner_only_dir(kept.parent)
                    os.replace(target, kept)
                    other.append({"member": name, "file": f"other/{kept.name}"})
        if streamed is not None:
            split.write_studentmodule(zip_path, streamed, homedir, passphrase)
        _write_tables(split, decrypted, workdir, course_id)
        shutil.rmtree(plain)
        _swap_in(workdir, outdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return {
        "bundle": Path(zip_path).name, "course_id": course_id, "base": entry["base"], "directory": str(outdir),
        "tables": split.tables,
        "rejects": {table: {"rows": len(rows), "file": f"rejects/{table}.json.gz"} for table, rows in split.rejects.items()},
        "other": other, "refused": refused, "seconds": round(time.monotonic() - started, 3),
    }


def _write_tables(split: CourseSplit, decrypted: dict, workdir: Path, course_id: str) -> None:
    def member_of(*tables):
        return [decrypted[t][1] for t in tables if t in decrypted]

    for table, (path, name) in decrypted.items():
        if path.name.endswith(".sql") and table not in CLEANED.values():
            reader = read_tsv(path)
            split.write(table, _normalised_course_ids(reader), string_schema(reader.columns), [name])
            split.reject(table, reader.rejects)

    for table, build in (("grades_persistent", build_grades_persistent),
                         ("grades_persistent_subsection", build_grades_persistent_subsection)):
        if table in decrypted:
            path, name = decrypted[table]
            reader = read_tsv(path)
            split.write(table, build(reader, course_id), shipped_schema(table), [name])
            split.reject(table, reader.rejects)
    if "forum" in decrypted:
        path, name = decrypted["forum"]
        with open(path, "rb") as lines:
            rows, rejects = build_forum(lines, course_id)
        split.write("forum", rows, shipped_schema("forum"), [name])
        split.reject("forum", rejects)
    if "student_courseaccessrole" in decrypted or "django_comment_client_role_users" in decrypted:
        rows = build_roles(_rows_of(decrypted, "student_courseaccessrole"),
                           _rows_of(decrypted, "django_comment_client_role_users"), course_id)
        split.write("roles", rows, shipped_schema("roles"), member_of("student_courseaccessrole", "django_comment_client_role_users"))
    if any(table in decrypted for table in USER_TABLES):
        tables = {table: _rows_of(decrypted, table) for table in USER_TABLES if table in decrypted}
        split.write("user_info_combo", build_user_info_combo(tables, course_id), shipped_schema("user_info_combo"),
                    member_of(*USER_TABLES))
    structure_path = decrypted.get("course_structure", (None,))[0]
    olx = decrypted.get("course", (None,))[0]
    if olx is not None:
        os.replace(olx, workdir / "course.xml.tar.gz")
        olx = workdir / "course.xml.tar.gz"
    if structure_path is not None:
        os.replace(structure_path, workdir / "course_structure.json")
        try:
            structure = json.loads((workdir / "course_structure.json").read_bytes())
        except ValueError as error:
            raise BundleError(f"{course_id}: {member_of('course_structure')[0]} is not valid JSON: {error}") from None
        split.write("course_axis", build_course_axis(structure, olx, course_id), shipped_schema("course_axis"),
                    member_of("course_structure", "course"))
    if olx is not None:
        split.write("grading_policy", build_grading_policy(olx, course_id), shipped_schema("grading_policy"), member_of("course"))
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


def split_snapshot(zip_path: str | Path, sites: list[str], courses: list[str], sql_root: str | Path,
                   course_receipts: str | Path | None, source_object: dict | None, gnupghome: str | None,
                   passphrase: str | None) -> dict:
    """Split every course of an older weekly bundle into `SQL/{BASE}/{date}/` (snapshots: all).
    A course already split from this very object (its `sql_course` receipt from the week the bundle
    was the newest) is not split again."""
    started = time.monotonic()
    index = index_bundle(zip_path, sites, courses)
    date = Path(zip_path).name.removesuffix(".zip")[-10:]
    done = {}
    for entry in index["courses"]:
        earlier = Path(course_receipts) / f"{entry['base']}.json" if course_receipts else None
        receipt = json.loads(earlier.read_text()) if earlier and earlier.exists() else None
        reused = receipt is not None and receipt.get("source_object") == source_object
        if not reused:
            receipt = split_course(zip_path, entry, Path(sql_root) / entry["base"] / date, gnupghome, passphrase)
        done[entry["base"]] = {"course_id": entry["course_id"], "reused": str(earlier) if reused else None,
                               "tables": {table: info["rows"] for table, info in receipt["tables"].items()}}
    return {"bundle": Path(zip_path).name, "source_object": source_object, "courses": done,
            "unmapped_members": index["unmapped_members"], "seconds": round(time.monotonic() - started, 3)}
