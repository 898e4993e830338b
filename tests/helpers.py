"""Plain helpers shared by several test modules (and the benchmarks in bench/): the repository's
path, a throwaway gpg keyring, real Snakemake runs of the workflow on the demo package with what
they leave in DuckDB, and for the report tests the report templates built on DuckDB from
hand-written rows (a small golden course among them).

Fixtures live in tests/conftest.py, which pytest finds without imports; test modules import from
here, never from conftest.py or from one another."""

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

PASSPHRASE = "correct horse battery staple"

# The dates config/demo.yaml runs over: the whole demo package.
DEMO_DATES = {"begin": "2026-11-01", "end": "2026-11-08"}


def short_tempdir(prefix: str) -> Path:
    # gpg-agent's socket path must be short, and pytest's tmp_path can be long.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def make_gnupghome(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # No passphrase caching: a wrong passphrase must fail even right after a right one.
    (path / "gpg-agent.conf").write_text(
        "default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n"
    )
    return path


def kill_agent(home: Path) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False, capture_output=True
    )


class Keys:
    """A keyring with two keys (one without passphrase, one with), and a second keyring holding
    only a foreign key, for files the first keyring cannot decrypt."""

    def __init__(self, root: Path):
        import gnupg

        self.home = make_gnupghome(root / "home")
        self.other_home = make_gnupghome(root / "other")
        self.gpg = gnupg.GPG(gnupghome=str(self.home))
        self.plain_key = self._generate(self.gpg, "czar@example.org", None)
        self.protected_key = self._generate(self.gpg, "czar-pass@example.org", PASSPHRASE)
        self.other_gpg = gnupg.GPG(gnupghome=str(self.other_home))
        self.foreign_key = self._generate(self.other_gpg, "someone-else@example.org", None)
        self.gpg.import_keys(self.other_gpg.export_keys(self.foreign_key))

    @staticmethod
    def _generate(gpg, email, passphrase):
        options = {"passphrase": passphrase} if passphrase else {"no_protection": True}
        key = gpg.gen_key(
            gpg.gen_key_input(
                key_type="RSA", key_length=2048, name_email=email, expire_date=0, **options
            )
        )
        assert key.fingerprint, key.stderr
        return key.fingerprint

    def encrypt(self, data: bytes, key: str | None = None) -> bytes:
        result = self.gpg.encrypt(data, [key or self.plain_key], armor=False, always_trust=True)
        assert result.ok, result.status
        return result.data

    def close(self):
        kill_agent(self.home)
        kill_agent(self.other_home)


def snakemake_command(
    workdir: Path, config: dict | None, *args, cores: int | None = 2
) -> list[str]:
    """A Snakemake run of the workflow in `workdir`: `config` written to workdir/config.yaml as its
    --configfile (None: none, the workflow reads workdir/config/config.yaml); --cores unless None."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
    ]
    if config is not None:
        configfile = workdir / "config.yaml"
        configfile.write_text(yaml.safe_dump(config))
        command += ["--configfile", str(configfile)]
    if cores is not None:
        command += ["--cores", str(cores)]
    return [*command, *args]


def snakemake(workdir: Path, config: dict | None, *args, env=None, cores=2, timeout=600):
    """That run, with `env` added to this process's environment."""
    return subprocess.run(
        snakemake_command(workdir, config, *args, cores=cores),
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def run_script(script: str, *args, **options) -> subprocess.CompletedProcess:
    """One of the step scripts (scripts/<script>) in a process of its own; `options` go to
    subprocess.run (env, preexec_fn, ...)."""
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / script), *args],
        capture_output=True,
        text=True,
        **options,
    )


def accounted(receipt: dict) -> int:
    """The lines a split receipt accounts for: each must be one of these, so they add up to
    lines_in."""
    return (
        receipt["blank"]
        + sum(receipt["by_course"].values())
        + receipt["no_course"]
        + receipt["rejected"]
        + receipt["duplicates"]
        + receipt["filtered_out"]
    )


def protected_log_run(keys, workdir: Path, passphrase_env: str) -> tuple[dict, str]:
    """A local source in workdir/source holding one day's log (demox, 2026-11-08) encrypted to the
    key with a passphrase, and the config of a run over the demo dates that reads the passphrase
    from `passphrase_env`: (config, the log's key)."""
    import datetime as dt
    import gzip

    from edxflow.core import naming

    key = naming.log_key("demox", "edx", dt.date(2026, 11, 8))
    encrypted = workdir / "source" / "edx-course-data" / key
    encrypted.parent.mkdir(parents=True)
    encrypted.write_bytes(keys.encrypt(gzip.compress(b'{"event_type": "x"}\n'), keys.protected_key))
    config = {
        "org": "demox",
        "file_types": ["log"],
        "dates": dict(DEMO_DATES),
        "source": {"kind": "local", "local_root": str(workdir / "source")},
        "gpg": {"homedir": str(keys.home), "passphrase_env": passphrase_env},
        "results_dir": str(workdir / "results"),
    }
    return config, key


def encrypted_bundle(path: Path, members: dict[str, bytes], keys, key=None) -> Path:
    """A zip at `path` of `members`, the `.gpg` ones encrypted with `keys` (to `key`, or the key
    without passphrase)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, keys.encrypt(data, key) if name.endswith(".gpg") else data)
    path.write_bytes(buffer.getvalue())
    return path


def job_counts(output: str) -> dict[str, int]:
    table = output[output.index("Job stats:") :]
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)
        if m.group(1) != "total"
    }


def demo_config(demo: Path, workdir: Path, **changes) -> dict:
    config = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    config["source"]["local_root"] = str(demo / "source")
    config["gpg"]["homedir"] = str(demo / "gnupg")
    database = demo / "geoip-demo.mmdb"
    if database.exists():
        config["reports"]["geoip"]["database"] = str(database)
    else:  # a package the fault and convergence tests make without the demo's database
        del config["reports"]["geoip"]
    config["results_dir"] = str(workdir / "results")
    config.update(changes)
    return config


def warehouse_counts(results: Path) -> dict[str, int]:
    """dataset.table -> rows, read from the DuckDB file itself."""
    import duckdb

    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_name NOT LIKE '\\_%' ESCAPE '\\'"
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'SELECT count(*) FROM "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in tables
        }


def report_tables() -> set[str]:
    """The names of the report tables, the courses' and the organisation's (sql/reports/)."""
    return {path.stem for path in (REPO / "sql" / "reports").rglob("*.sql")}


def table_contents(results: Path, reports: bool = True) -> dict[str, tuple[int, str]]:
    """dataset.table -> (rows, a digest of its sorted rows), from the DuckDB file itself; without
    the report tables when `reports` is false. Floating-point columns are compared to 9 decimals:
    DuckDB sums in parallel, so an average's last bits depend on the order its threads finish."""
    import duckdb

    skip = set() if reports else report_tables()
    contents = {}
    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        for table, rows in warehouse_counts(results).items():
            schema, name = table.split(".")
            if name in skip:
                continue
            columns = [
                f'round("{column}", 9)' if kind in ("DOUBLE", "FLOAT") else f'"{column}"'
                for column, kind, *_ in connection.execute(
                    f'DESCRIBE "{schema}"."{name}"'
                ).fetchall()
            ]
            text = (
                connection.execute(
                    f"SELECT string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR)) "
                    f'FROM (SELECT {", ".join(columns)} FROM "{schema}"."{name}") AS t'
                ).fetchone()[0]
                or ""
            )
            contents[table] = (rows, hashlib.sha256(text.encode()).hexdigest())
    return contents


# --- report templates on DuckDB (tests/test_report_*.py) ----------------------------------------
# What the report tests share: the templates and their schemas, a warehouse holding hand-written
# rows typed by a schema, and a template rendered, transpiled and run into it.

REPORTS = REPO / "sql" / "reports"
SCHEMAS = REPO / "sql" / "schemas"
REPORT_SCHEMAS = SCHEMAS / "reports"

# The report tables person_course reads that are built from loaded inputs by their own templates,
# in build order (each after what it reads).
PERSON_COURSE_UPSTREAM = [
    "pc_nchapters",
    "pc_forum",
    "enrollment_events",
    "person_enrollment_verified",
    "pc_day_ip_counts",
    "course_modal_ip",
    "pc_day_agent_counts",
    "course_modal_agent",
    "pc_day_trlang",
    "language_multi_transcripts",
    "course_modal_language",
]

# The event counts of person_course_day and pc_day_totals (simeon's names, in order).
DAY_COUNTS = [
    "nevents",
    "nprogcheck",
    "nshow_answer",
    "nvideo",
    "nproblem_check",
    "nforum",
    "ntranscript",
    "nseq_goto",
    "nseek_video",
    "npause_video",
]

WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/129.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) Mobile/15E148"


def report_template(table: str) -> str:
    return (REPORTS / f"{table}.sql").read_text(encoding="utf-8")


def report_schema(table: str) -> list[dict]:
    """The shipped schema of a report table (sql/schemas/reports/<table>.json)."""
    return json.loads((REPORT_SCHEMAS / f"{table}.json").read_text(encoding="utf-8"))


def template_header(table: str) -> dict:
    """The leading comment block of a template: its first line and its reads/optional lists."""
    lines = []
    for line in report_template(table).splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    found = {"first": lines[0] if lines else "", "reads": [], "optional": []}
    for line in lines:
        for key in ("reads", "optional"):
            if line.startswith(key + ":"):
                found[key] += [name.strip() for name in line[len(key) + 1 :].split(",")]
    return found


def check_header(table: str) -> dict:
    """Assert what a template's header says: its first line names the table; it reads something;
    each table it names is another table, with a shipped schema (tracklog: tracking_log's) or a
    template; and the tables the SQL reads are the ones it names. The header."""
    found = template_header(table)
    assert found["first"].startswith(f"{table}: "), found["first"]
    assert found["reads"], f"{table}.sql has no '-- reads:' line"
    for name in found["reads"] + found["optional"]:
        assert re.fullmatch(r"[A-Za-z0-9_]+", name), name
        loaded = SCHEMAS / f"{'tracking_log' if name == 'tracklog' else name}.json"
        assert loaded.is_file() or (REPORTS / f"{name}.sql").is_file(), f"{table}.sql reads {name}"
        assert name != table
    text = report_template(table)
    used = set(re.findall(r"\{\{ latest_dataset \}\}\.([A-Za-z0-9_]+)", text))
    if "{{ tracklog }}" in text:
        used.add("tracklog")
    assert used == set(found["reads"]) | set(found["optional"])
    return found


def check_schema(table: str, types, modes=("NULLABLE",)) -> list[dict]:
    """Assert a report table's schema is complete: columns with unique names, each of one of
    `types`, a mode of `modes` and a description. The schema."""
    fields = report_schema(table)
    assert isinstance(fields, list) and fields
    names = [field["name"] for field in fields]
    assert len(names) == len(set(names))
    for field in fields:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field["name"])
        assert field["type"] in types
        assert field["mode"] in modes
        assert isinstance(field.get("description"), str) and field["description"].strip()
    return fields


def transcript_download(xblock: str) -> str:
    """The event of a click on the transcript download link of the video `xblock`."""
    return json.dumps({"target_url": f"https://lms.example{xblock}/handler/transcript/download"})


def tracklog_event(course_id, time, username, ip, agent, event_type, event="{}", **more) -> dict:
    """A tracking-log row of `course_id` at 2030-01-`time`Z."""
    return {
        "time": f"2030-01-{time}Z",
        "username": username,
        "ip": ip,
        "agent": agent,
        "event_type": event_type,
        "event": event,
        "course_id": course_id,
        **more,
    }


def report_warehouse(folder: Path, *datasets: str, inputs: dict | None = None):
    """A DuckDB warehouse in `folder` (time zone UTC) with the schemas `datasets` and the tables
    `inputs`: (dataset, table) -> (schema, rows), as load_rows makes them."""
    import duckdb

    from edxflow.warehouse.duckdb import quote

    con = duckdb.connect(str(folder / "warehouse.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    for dataset in datasets:
        con.execute(f"CREATE SCHEMA {quote(dataset)}")
    for (dataset, table), (fields, rows) in (inputs or {}).items():
        load_rows(con, folder, dataset, table, fields, rows)
    return con


def load_rows(con, folder: Path, dataset: str, table: str, fields: list[dict], rows: list[dict]):
    """Table `dataset.table` (its schema made if need be) with the schema's typed columns, holding
    `rows` (missing keys: NULL), read from a JSON-lines file written in `folder`."""
    from edxflow.warehouse.duckdb import column_type, columns_sql, quote

    path = folder / f"{dataset}.{table}.json"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    columns = ", ".join(f"'{field['name']}': '{column_type(field)}'" for field in fields)
    target = f"{quote(dataset)}.{quote(table)}"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(dataset)}")
    con.execute(f"CREATE TABLE {target} ({columns_sql(fields)})")
    con.execute(
        f"INSERT INTO {target} SELECT * FROM read_json('{path}', "
        f"format = 'newline_delimited', columns = {{{columns}}})"
    )


def run_template(
    con,
    table: str,
    *,
    course_id: str,
    latest: str,
    logs: str,
    target: str | None = None,
    without=(),
    log_tables=("tracklog",),
    **render_options,
) -> str:
    """Render `table`'s template for `course_id` (the latest tables it has: those in the warehouse,
    less `without`), transpile it and build it in the latest dataset as `target` (default: the
    table itself); the quoted `dataset.table` it built."""
    from edxflow.reports.templates import render
    from edxflow.reports.transpile import to_duckdb
    from edxflow.warehouse.duckdb import quote

    present = [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [latest]
        ).fetchall()
        if name not in without
    ]
    sql = render(
        report_template(table),
        name=f"{table}.sql",
        course_id=course_id,
        latest_dataset=latest,
        log_dataset=logs,
        tables={"latest": sorted(present), "log": list(log_tables)},
        **render_options,
    )
    where = f"{quote(latest)}.{quote(target or table)}"
    con.execute(f"CREATE OR REPLACE TABLE {where} AS {to_duckdb(sql)}")
    return where


def text_rows(con, where: str) -> tuple[list[str], list[dict]]:
    """The column names of the table `where` and its rows as dicts, every value as text."""
    result = con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM {where}")
    names = [column[0] for column in result.description]
    return names, [dict(zip(names, row)) for row in result.fetchall()]


def built_rows(con, table: str, **options) -> tuple[str, list[dict]]:
    """run_template(con, table, **options), its columns checked to be the schema's, in order: the
    table built and its rows as dicts, every value as text."""
    where = run_template(con, table, **options)
    names, rows = text_rows(con, where)
    assert names == [field["name"] for field in report_schema(table)], table
    return where, rows


def assert_column_types(con, where: str, fields: list[dict], label: str = "") -> None:
    """The table `where` has the schema's columns, in order, with the schema's DuckDB types."""
    import duckdb

    from edxflow.warehouse.duckdb import column_type

    def spelled(kind: str) -> str:  # one spelling of a type (DESCRIBE spells TIMESTAMPTZ out)
        return str(duckdb.sqltype(kind))

    described = con.execute(f"DESCRIBE {where}").fetchall()
    assert [(name, spelled(kind)) for name, kind, *_ in described] == [
        (field["name"], spelled(column_type(field))) for field in fields
    ], label or where


# --- a small golden course (tests/test_report_person_course.py, tests/test_report_bigquery.py) --
# The report inputs of a course written by hand: learners, courseware, forum, roles, a tracking log
# and a geo table; test_report_person_course.py works out every column of person_course from them.

COURSE = "TestX/PC1/2030"
LATEST = "TestX__PC1__2030_latest"
LOGS = "TestX__PC1__2030_logs"
GEO = "geocode.geoip"


def mid(kind: str, name: str) -> str:
    return f"{COURSE}/{kind}/{name}"


# Three chapters students see (c2's visible_to_staff_only is NULL) and one for staff only.
COURSE_AXIS = [
    {"index": 1, "category": "course", "module_id": mid("course", "course")},
    {"index": 2, "category": "chapter", "module_id": mid("chapter", "c1")},
    {"index": 3, "category": "problem", "module_id": mid("problem", "p1"), "chapter": "c1"},
    {"index": 4, "category": "video", "module_id": mid("video", "v1"), "chapter": "c1"},
    {"index": 5, "category": "chapter", "module_id": mid("chapter", "c2"), "staff": None},
    {"index": 6, "category": "problem", "module_id": mid("problem", "p2"), "chapter": "c2"},
    {"index": 7, "category": "chapter", "module_id": mid("chapter", "c3")},
    {"index": 8, "category": "html", "module_id": mid("html", "h3"), "chapter": "c3"},
    {"index": 9, "category": "chapter", "module_id": mid("chapter", "cs"), "staff": True},
    {"index": 10, "category": "problem", "module_id": mid("problem", "ps"), "chapter": "cs"},
]
for row in COURSE_AXIS:
    chapter = row.pop("chapter", None) or (
        row["module_id"].rsplit("/", 1)[1] if row["category"] == "chapter" else None
    )
    row["chapter_mid"] = chapter and mid("chapter", chapter)
    row["visible_to_staff_only"] = row.pop("staff", False)
    row["course_id"] = COURSE
    row["name"] = row["module_id"].rsplit("/", 1)[1]

GRADING_POLICY = [
    {"assignment_type": "Homework", "fraction_of_overall_grade": 0.4, "overall_lower_cutoff": 0.5},
    {"assignment_type": "Exam", "fraction_of_overall_grade": 0.6, "overall_lower_cutoff": 0.5},
]


def user(user_id, username, email, **more):
    return {"user_id": user_id, "username": username, "email": email, **more}


USER_INFO_COMBO = [
    # ann: enrolled, never seen in the logs nor the courseware
    user(
        1,
        "ann",
        "ann@mail.example.org",
        profile_gender="f",
        profile_year_of_birth=1990,
        profile_level_of_education="b",
        profile_country="US",
        enrollment_created="2029-12-01T00:00:00Z",
        enrollment_is_active=1,
        enrollment_mode="audit",
    ),
    # ben: events, no courseware; an email address without '@'
    user(
        2,
        "ben",
        "ben.no-at-sign",
        profile_gender="m",
        enrollment_created="2029-12-02T00:00:00Z",
        enrollment_is_active=1,
        enrollment_mode="honor",
    ),
    # cat: certified; two '@' in the address
    user(
        3,
        "cat",
        "cat@a@b.edu",
        profile_gender="o",
        profile_year_of_birth=1985,
        profile_level_of_education="m",
        profile_country="FR",
        enrollment_created="2029-12-03T00:00:00Z",
        enrollment_is_active=1,
        enrollment_mode="verified",
        certificate_status="downloadable",
        certificate_created_date="2030-02-01T12:00:00Z",
        certificate_modified_date="2030-02-02T12:00:00Z",
    ),
    # dan: verified (the mode padded), not passing
    user(
        4,
        "dan",
        "dan@x.org",
        profile_gender="m",
        profile_year_of_birth=2000,
        profile_level_of_education="hs",
        profile_country="IN",
        enrollment_created="2029-12-04T00:00:00Z",
        enrollment_is_active=1,
        enrollment_mode=" verified ",
        certificate_status="notpassing",
        certificate_created_date="2030-02-01T13:00:00Z",
        certificate_modified_date="2030-02-01T13:00:00Z",
    ),
    # eve: staff, enrollment no longer active, grade exactly the passing grade
    user(
        5,
        "eve",
        "eve@mitx.edu",
        profile_gender="f",
        profile_year_of_birth=1970,
        profile_level_of_education="p",
        profile_country="US",
        enrollment_created="2029-11-30T00:00:00Z",
        enrollment_is_active=0,
        enrollment_mode="honor",
    ),
]
for row in USER_INFO_COMBO:
    row["enrollment_course_id"] = COURSE

STUDENTMODULE = [
    {"student_id": 3, "module_id": mid("problem", "p1"), "module_type": "problem"},
    {"student_id": 3, "module_id": mid("video", "v1"), "module_type": "video"},
    {"student_id": 3, "module_id": mid("problem", "p2"), "module_type": "problem"},
    {"student_id": 4, "module_id": mid("video", "v1"), "module_type": "video"},
    {"student_id": 5, "module_id": mid("problem", "ps"), "module_type": "problem"},
    {"student_id": 9, "module_id": mid("problem", "p1"), "module_type": "problem"},
]

GRADES_PERSISTENT = [
    {"course_id": COURSE, "user_id": 2, "percent_grade": 0.0},
    {"course_id": COURSE, "user_id": 3, "percent_grade": 0.9},
    {"course_id": COURSE, "user_id": 4, "percent_grade": 0.4},
    {"course_id": COURSE, "user_id": 5, "percent_grade": 0.5},
]

# pinned and endorsed are given on every post: COUNTIF over only NULLs is NULL on DuckDB (see
# test_forum_count_of_a_flag_nobody_set_is_zero).
FORUM = [
    {
        "author_id": 3,
        "_type": "CommentThread",
        "pinned": False,
        "endorsed": False,
        "votes": {"count": 2},
    },
    {"author_id": 3, "_type": "Comment", "pinned": False, "endorsed": True, "votes": {"count": 1}},
    {
        "author_id": 5,
        "_type": "CommentThread",
        "pinned": True,
        "endorsed": False,
        "votes": {"count": 0},
    },
]

FLAGS = [
    "roles_isBetaTester",
    "roles_isInstructor",
    "roles_isStaff",
    "roles_isCCX",
    "roles_isFinance",
    "roles_isLibrary",
    "roles_isSales",
    "forumRoles_isAdmin",
    "forumRoles_isCommunityTA",
    "forumRoles_isModerator",
    "forumRoles_isStudent",
]


def role(user_id, roles, *flags):
    return {
        "course_id": COURSE,
        "user_id": user_id,
        "roles": roles,
        **{flag: int(flag in flags) for flag in FLAGS},
    }


ROLES = [
    role(3, "Student", "forumRoles_isStudent"),
    role(
        5,
        "Staff",
        "roles_isInstructor",
        "roles_isStaff",
        "forumRoles_isAdmin",
        "forumRoles_isStudent",
    ),
    role(9, "Student", "forumRoles_isStudent"),
]

XBLOCK = "/courses/course-v1:TestX+PC1+2030/xblock/block-v1:TestX+PC1+2030+type@video+block@v1"
DOWNLOAD = transcript_download(XBLOCK)


def event(time, username, ip, agent, event_type, event="{}", **more):
    return tracklog_event(COURSE, time, username, ip, agent, event_type, event, **more)


TRACKLOG = [
    # ben: desktop, one IP not in the geo table
    event("01T08:00:00", "ben", "10.0.0.7", WINDOWS, "/courses/x/progress"),
    event("01T08:01:00", "ben", "10.0.0.7", WINDOWS, "/courses/x/discussion/forum"),
    # cat: desktop; loads the fr transcript, then downloads it
    event("01T09:00:00", "cat", "10.0.0.3", WINDOWS, f"{XBLOCK}/handler/transcript/translation/fr"),
    event("01T09:01:00", "cat", "10.0.0.3", WINDOWS, "edx.ui.lms.link_clicked", DOWNLOAD),
    event("02T10:00:00", "cat", "10.0.0.3", WINDOWS, "play_video"),
    # dan: two IPs twice each (a tie), three mobile events and one desktop; into verified, out
    event(
        "02T10:00:00",
        "dan",
        "10.0.0.5",
        IPHONE,
        "edx.course.enrollment.mode_changed",
        event_struct={"user_id": 4, "mode": "verified"},
    ),
    event("03T09:00:00", "dan", "10.0.0.5", IPHONE, "edx.ui.lms.link_clicked", DOWNLOAD),
    event("04T09:00:00", "dan", "10.0.0.40", IPHONE, "play_video"),
    event(
        "05T10:00:00",
        "dan",
        "10.0.0.40",
        WINDOWS,
        "edx.course.enrollment.deactivated",
        event_struct={"user_id": 4, "mode": "verified"},
    ),
    # eve: one desktop event, an enrollment in audit (not verified)
    event(
        "03T12:00:00",
        "eve",
        "10.0.0.3",
        WINDOWS,
        "edx.course.enrollment.activated",
        event_struct={"user_id": 5, "mode": "audit"},
    ),
    # zed: in the logs, studentmodule and roles, but not in user_info_combo
    event("03T13:00:00", "zed", "10.0.0.9", IPHONE, "play_video"),
]


def fields(spec: str) -> list[dict]:
    """A schema from `name TYPE, ...` (for the inputs whose schema is not shipped yet)."""
    return [
        {"name": name, "type": kind, "mode": "NULLABLE", "description": name}
        for name, kind in (item.split() for item in spec.split(","))
    ]


# simeon's schema_geoip.json.
GEOIP_SCHEMA = fields(
    "ip STRING, city STRING, countryLabel STRING, country STRING, postalCode STRING, "
    "continent STRING, subdivision STRING, region STRING, cc_by_ip STRING, "
    "un_major_region STRING, un_economic_group STRING, un_developing_nation STRING, "
    "un_special_region STRING, latitude FLOAT, longitude FLOAT, timestamp TIMESTAMP"
)
GEO_COLUMNS = [
    "cc_by_ip",
    "countryLabel",
    "continent",
    "city",
    "region",
    "subdivision",
    "postalCode",
    "un_major_region",
    "un_economic_group",
    "un_developing_nation",
    "un_special_region",
    "latitude",
    "longitude",
]
BOSTON = ("US", "United States", "North America", "Boston", "MA", "Massachusetts", "02139")
BOSTON += ("Northern America", "Developed", None, None, 42.36, -71.09)
NOWHERE = ("ZZ", "Nowhere", "None", "Nowhere", "NW", "Nowhere", "00000", None, None, None, None)
NOWHERE += (0.0, 0.0)
MUMBAI = ("IN", "India", "Asia", "Mumbai", "MH", "Maharashtra", "400001", "Southern Asia")
MUMBAI += ("Developing", "Developing", None, 19.07, 72.87)
PARIS = ("FR", "France", "Europe", "Paris", "IDF", "Ile-de-France", "75001", "Western Europe")
PARIS += ("Developed", None, None, 48.85, 2.35)
GEOIP = [
    # 10.0.0.3 listed twice: the first by country code counts
    {"ip": "10.0.0.3", **dict(zip(GEO_COLUMNS, NOWHERE))},
    {"ip": "10.0.0.3", **dict(zip(GEO_COLUMNS, BOSTON))},
    {"ip": "10.0.0.40", **dict(zip(GEO_COLUMNS, MUMBAI))},
    {"ip": "10.0.0.5", **dict(zip(GEO_COLUMNS, PARIS))},
    {"ip": "10.0.0.9", **dict(zip(GEO_COLUMNS, PARIS))},
]


def golden_inputs() -> dict[tuple[str, str], tuple[list[dict], list[dict]]]:
    """(dataset, table) -> (schema, rows): the golden course's loaded inputs."""
    from edxflow.core.jsonl import shipped_schema

    latest = {
        "user_info_combo": USER_INFO_COMBO,
        "course_axis": COURSE_AXIS,
        "grading_policy": GRADING_POLICY,
        "studentmodule": STUDENTMODULE,
        "grades_persistent": GRADES_PERSISTENT,
        "forum": FORUM,
        "roles": ROLES,
    }
    return {
        **{(LATEST, table): (shipped_schema(table), rows) for table, rows in latest.items()},
        (LOGS, "tracklog"): (shipped_schema("tracking_log"), TRACKLOG),
        tuple(GEO.split(".")): (GEOIP_SCHEMA, GEOIP),
    }
