import functools
import os
import sys
from pathlib import Path

from snakemake.logging import logger

sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))

from edxflow.core import naming
from edxflow.core.config import ConfigError, passphrase_problem, selected_courses, validate_config
from edxflow.fetch.leftovers import remove_leftovers
from edxflow.reports.build import template_files
from edxflow.reports.summary import preview, report_summary
from edxflow.warehouse.load import warehouse_summary
from edxflow.warehouse.settings import WarehouseSettings
from edxflow.core.atomic import read_json
from edxflow.fetch.manifest import manifest_paths, read_listing, read_manifest, refresh_listing
from edxflow.fetch.source import SourceError

try:
    validate_config(config)
except ConfigError as error:
    raise WorkflowError(str(error)) from None


def check_passphrase():
    """An unset gpg.passphrase_env variable stops a real run before its first job, when a planned
    job decrypts (those take the gpg settings), not at decryption after the downloads. A dry run
    plans and warns."""
    problem = passphrase_problem(config["gpg"])
    if not problem:
        return
    if workflow.dryrun:
        logger.warning(f"{problem}. A real run would stop before its first job.")
    elif any(hasattr(job.params, "gpg") for job in workflow.dag.needrun_jobs()):
        raise WorkflowError(problem)


# Wildcards never match across the path segments they are not meant to: every file has one rule
# that can write it, and matching stays fast on large plans.
wildcard_constraints:
    file_type="|".join(naming.FILE_TYPES),
    site="|".join(naming.SITES + (naming.ALL_SITES,)),
    date=r"\d{4}-\d{2}-\d{2}",
    bucket=r"[^/]+",
    bundle=r"[^/]+-\d{4}-\d{2}-\d{2}",
    base=r"[^/]+",
    # a publish or load unit: a log day ({site}/{date}), a course (sql) or an email file's date
    unit=r"[^/]+|(?:" + "|".join(naming.SITES) + r")/\d{4}-\d{2}-\d{2}",


def out(path):
    """A path under the configured results directory."""
    return os.path.join(config["results_dir"], path)


MANIFEST_UNITS = naming.site_units(config["file_types"], config["sites"])
MANIFEST_DIR = out("manifests/objects")
VERSIONS_DIR = out("manifests/versions")
NOTHING_MATCHED = (
    "No object matched the configuration (org, sites, file_types, dates): nothing to do."
)
COURSES = selected_courses(config)


# Listing is neither a rule nor a checkpoint. A listing rule's output, once written, would be up to
# date, so new and replaced objects would wait for a forced run; a listing checkpoint would hide
# every download, split and load from the dry run until it ran, and add a DAG round. Listed here at
# plan time, one run takes in whatever is new and the next has nothing to do.
@functools.cache
def listing():
    """(file type, site) -> what the source holds now. The main process lists the source at every
    plan (one request per year of logs, one per SQL and email prefix), so that new, replaced and
    removed objects are part of this run's plan without a checkpoint round; job processes (a
    cluster's) read the manifests it wrote."""
    if not workflow.is_main_process:
        return read_listing(MANIFEST_UNITS, MANIFEST_DIR)
    try:
        found = refresh_listing(config, MANIFEST_UNITS, MANIFEST_DIR, versions_dir=VERSIONS_DIR)
    except (SourceError, ConfigError) as error:
        raise WorkflowError(f"cannot list the package: {error}") from None
    if workflow.dryrun:
        check_passphrase()
    for (file_type, site), unit in found.items():
        if unit["changed"] and unit["passed_over"]:
            logger.warning(
                f"{len(unit['passed_over'])} object(s) under the {file_type} prefixes of "
                f"{unit['where']} were passed over: see {manifest_paths(MANIFEST_DIR, file_type, site)[1]}"
            )
    if not any(unit["objects"] for unit in found.values()):
        logger.warning(NOTHING_MATCHED)
    return found


def listed(file_type, site=naming.ALL_SITES):
    return listing()[(file_type, site)]["objects"] if file_type in config["file_types"] else []


@functools.cache
def _by_date(file_type, site):
    return {item["date"]: item for item in listed(file_type, site)}


def listed_on(file_type, site, date):
    item = _by_date(file_type, site).get(date)
    if item is None:
        raise WorkflowError(
            f"the package listing has no {file_type} object dated {date}: check `dates` and the source"
        )
    return item


def log_items():
    """(site, object) of every listed daily log."""
    return [
        (site, item) for t, site in MANIFEST_UNITS if t == "log" for item in listed("log", site)
    ]


def snapshots(file_type):
    """The weekly snapshots (SQL bundles, email files) processed: the newest only, or all."""
    items = listed(file_type)
    return items if config["snapshots"] == "all" else items[-1:]


def newest(file_type):
    items = listed(file_type)
    return items[-1] if items else None


def raw_path(item):
    return out(f"raw/{item['bucket']}/{item['key']}")


def bundle_name(item):
    return item["key"].removesuffix(".zip")


def listed_log(wildcards):
    return listed_on("log", wildcards.site, wildcards.date)


def listed_email(wildcards):
    return listed_on("email", naming.ALL_SITES, wildcards.date)


def listed_bundle(wildcards):
    return listed_on("sql", naming.ALL_SITES, wildcards.bundle[-10:])


def get_encrypted_log(wildcards):
    return raw_path(listed_log(wildcards))


def get_encrypted_email(wildcards):
    return raw_path(listed_email(wildcards))


def get_sql_bundle(wildcards):
    return raw_path(listed_bundle(wildcards))


# Every step reading a source object takes its version file as an input (see record_version): a
# step whose output lasts runs again when the object is replaced upstream, though the download
# itself is temporary. An input rather than a param: a newer input file is seen whatever the
# --rerun-triggers, a changed param only through Snakemake's metadata in .snakemake/.
def version(item):
    return out(f"manifests/versions/{item['bucket']}/{item['key']}.json")


def get_log_version(wildcards):
    return version(listed_log(wildcards))


def get_email_version(wildcards):
    return version(listed_email(wildcards))


def get_bundle_version(wildcards):
    return version(listed_bundle(wildcards))


def get_all_manifests(wildcards=None):
    listing()
    return [str(manifest_paths(MANIFEST_DIR, t, s)[0]) for t, s in MANIFEST_UNITS]


def get_all_passed_over(wildcards=None):
    """The objects each listing passed over, with the reason (beside its manifest)."""
    listing()
    return [str(manifest_paths(MANIFEST_DIR, t, s)[1]) for t, s in MANIFEST_UNITS]


def get_all_downloads(wildcards):
    items = [item for _, item in log_items()] + snapshots("sql") + snapshots("email")
    return [raw_path(item) for item in items]


def get_decrypted_logs(wildcards):
    return [out(f"decrypted/log/{site}/{item['date']}.log.gz") for site, item in log_items()]


def get_decrypted_emails(wildcards):
    return [out(f"receipts/decrypt/email/{item['date']}.json") for item in snapshots("email")]


def get_all_decrypted(wildcards):
    return get_decrypted_logs(wildcards) + get_decrypted_emails(wildcards)


def get_all_splits(wildcards):
    return [
        out(f"receipts/split_tracking_log/{site}/{item['date']}.json") for site, item in log_items()
    ]


def get_email_tables(wildcards):
    return [out(f"receipts/email_opt_in/{item['date']}.json") for item in snapshots("email")]


def get_sql_snapshots(wildcards):
    """Older bundles, one job each (snapshots: all); the newest is split one job per course."""
    return [
        out(f"receipts/sql_snapshot/{bundle_name(item)}.json") for item in snapshots("sql")[:-1]
    ]


@functools.cache
def _index_courses(path, mtime_ns):
    return {entry["base"]: entry["course_id"] for entry in read_json(path)["courses"]}


def bundle_courses(path):
    """base -> course id of the courses a bundle index names (read once per version of the file)."""
    return _index_courses(path, os.stat(path).st_mtime_ns)


def bundle_bases(path):
    """The courses a bundle index names."""
    return list(bundle_courses(path))


def sql_bases():
    """The courses of the newest bundle. Its index is the workflow's one checkpoint: which courses
    a bundle holds is known only once its zip is fetched."""
    item = newest("sql")
    if item is None:
        return []
    return bundle_bases(checkpoints.index_bundle.get(bundle=bundle_name(item)).output.index)


def get_sql_courses(wildcards):
    bases = sql_bases()
    return [out(f"receipts/sql_course/{bundle_name(newest('sql'))}/{base}.json") for base in bases]


def newest_index():
    """The newest bundle's index (manifests/sql/{bundle}.json), None when no bundle is listed."""
    item = newest("sql")
    return out(f"manifests/sql/{bundle_name(item)}.json") if item else None


def get_course_id(wildcards):
    """A report job's course id, as the newest bundle's index names it (params: the index is
    there once the course's job is planned)."""
    return bundle_courses(newest_index())[wildcards.base]


def get_report_receipts(wildcards):
    return [out(f"receipts/report/{base}.json") for base in sql_bases()]


# Every per-course file, as separate input functions: the SQL courses wait for the bundle index
# while the logs and email files are already planned.
ALL_SPLIT = [
    get_all_manifests,
    get_all_splits,
    get_email_tables,
    get_sql_courses,
    get_sql_snapshots,
]

PUBLISHING = config["storage"]["kind"] == "gcs"
# BigQuery loads the published objects when there are some; DuckDB always reads the local files.
LOAD_BUCKET = (
    config["storage"]["bucket"]
    if PUBLISHING and config["warehouse"]["kind"] == "bigquery"
    else None
)
# The warehouse as the load steps see it (they build the same from their params).
WAREHOUSE = WarehouseSettings.from_config(config["warehouse"], LOAD_BUCKET)


def get_written_by(wildcards):
    """The receipt of the step that wrote a publish or load unit's files: a log day's split, a
    course's split of the newest bundle, or an email file's tables."""
    if wildcards.file_type == "log":
        return out(f"receipts/split_tracking_log/{wildcards.unit}.json")
    if wildcards.file_type == "sql":
        bundle = bundle_name(newest("sql"))
        return out(f"receipts/sql_course/{bundle}/{wildcards.unit}.json")
    return out(f"receipts/email_opt_in/{wildcards.unit}.json")


def results_of_receipt(wildcards, output):
    """The results directory, from a publish or load receipt's path
    (`{results}/receipts/{step}/{file_type}/{unit}.json`, a log unit being `{site}/{date}`)."""
    return str(Path(output.receipt).parents[4 if wildcards.file_type == "log" else 3])


def get_published_receipt(wildcards):
    return (
        [out(f"receipts/publish/{wildcards.file_type}/{wildcards.unit}.json")]
        if LOAD_BUCKET
        else []
    )


def warehouse_units(file_type):
    """The publish and load units of a file type: every log day, each course of the newest
    bundle, the newest email file."""
    if file_type == "log":
        return [f"{site}/{item['date']}" for site, item in log_items()]
    if file_type == "sql":
        return sql_bases()
    return [item["date"] for item in listed("email")[-1:]]


def per_unit(step, file_type):
    """The input function of a target: every `step` receipt of a file type's units."""

    def get_unit_receipts(wildcards):
        return [
            out(f"receipts/{step}/{file_type}/{unit}.json") for unit in warehouse_units(file_type)
        ]

    return get_unit_receipts


# Nothing to publish with storage.kind none: the `publish` target then builds nothing.
all_published = [per_unit("publish", t) for t in config["file_types"]] if PUBLISHING else []
all_loaded = [per_unit("load", t) for t in config["file_types"]]


def get_all_loads(wildcards):
    """Every load receipt, of every file type (all_loaded, as one input function)."""
    return [path for get_unit_receipts in all_loaded for path in get_unit_receipts(wildcards)]


# What a course's report job reads of the logs: one receipt over every day's load (logs_loaded),
# not each day's, so the job's input list stays one file long however many days there are.
LOGS_LOADED = [out("receipts/load/log.json")] if "log" in config["file_types"] else []
REPORT_TEMPLATES = [str(path) for path in template_files(config["reports"]["query_dir"])]
# The organisation's tables, over the courses of the newest bundle (none without SQL bundles).
REPORT_ORGANISATION = (
    [out("receipts/report_organisation.json")] if "sql" in config["file_types"] else []
)
# The run report's plots and tables (rule run_report, in run_report.smk), over every receipt.
RUN_REPORT = [out("run_report/plot_data.json")]
# The default target: everything split, published when storage is set, loaded, and reported, and
# the run report.
ALL = [
    *ALL_SPLIT,
    *all_published,
    *all_loaded,
    get_report_receipts,
    *REPORT_ORGANISATION,
    *RUN_REPORT,
]


# Downloads and plaintext are temp() unless a keep_* key says otherwise: encrypted objects are as
# large as the package and stay on the source (their version files keep reruns right without
# them); decrypted logs and email CSVs are personal data, kept on disk no longer than the split
# needs them. The split per-course files are the results that last.
def encrypted_output(path):
    """Encrypted downloads are removed once decrypted, unless keep_encrypted."""
    return path if config["keep_encrypted"] else temp(path)


def decrypted_root(wildcards, output):
    """The `decrypted/` directory above a decrypt job's output: owner-only from there down."""
    return str(next(p for p in Path(output.plain).parents if p.name == "decrypted"))


def decrypted_output(path):
    """Decrypted logs and email CSVs are personal data: removed once split, unless keep_decrypted."""
    return path if config["keep_decrypted"] else temp(path)


def run_summary():
    lines = []
    for file_type, site in MANIFEST_UNITS:
        path = manifest_paths(MANIFEST_DIR, file_type, site)[0]
        if path.exists():
            items = read_manifest(path)
            where = f"{file_type}" + (f" ({site})" if site != naming.ALL_SITES else "")
            lines.append(
                f"  {where}: {len(items)} object(s), {sum(i['size'] for i in items)} bytes"
            )
    if lines and all(" 0 object(s)" in line for line in lines):
        lines.append(f"  {NOTHING_MATCHED}")
    parts = ["Package objects selected:", *lines] if lines else []
    loaded = warehouse_summary(config["results_dir"], WAREHOUSE)
    index = newest_index()
    bases = bundle_bases(index) if index and os.path.exists(index) else []
    reported = report_summary(config["results_dir"], bases)
    rows = preview(WAREHOUSE, config["results_dir"], bases, config["reports"]["preview_rows"])
    shown = [s for s in (loaded, reported, rows) if s]
    return "\n".join([*parts, *shown, *refused_members()])


def refused_members():
    """The newest bundle's members refused as unsafe paths (a zip-slip `../` name): its index
    lists them, and the end of every run says so, as a warning too."""
    item = newest("sql")
    index = out(f"manifests/sql/{bundle_name(item)}.json") if item else None
    names = read_json(index).get("refused_members", []) if index and os.path.exists(index) else []
    if not names:
        return []
    logger.warning(
        f"{len(names)} member(s) of {item['key']} refused as unsafe paths, not read: "
        + ", ".join(names)
    )
    return [
        f"Members of {item['key']} refused as unsafe paths (not read, see {index}):",
        *(f"  {name}" for name in names),
    ]


def _done(receipt):
    return os.path.exists(out(f"receipts/{receipt}.json"))


def _steps():
    """(what, done, logs) of every per-object and per-course step the listing implies."""
    for site, item in log_items():
        day = f"{site}/{item['date']}"
        fetched = f"download/{item['bucket']}/{item['key']}"
        split = f"split_tracking_log/{day}"
        yield item["key"], _done(split), [fetched, f"decrypt/log/{day}", split]
        yield f"{item['key']} (load)", _done(f"load/log/{day}"), [f"load/log/{day}"]
    if "log" in config["file_types"]:
        yield "the log loads' receipt", _done("load/log"), ["load/log"]
    for item in snapshots("email"):
        date = item["date"]
        fetched = f"download/{item['bucket']}/{item['key']}"
        logs = [fetched, f"decrypt/email/{date}", f"email_opt_in/{date}"]
        yield item["key"], _done(f"email_opt_in/{date}"), logs
    item = newest("sql")
    if item is not None:
        bundle = bundle_name(item)
        index = out(f"manifests/sql/{bundle}.json")
        fetched = f"download/{item['bucket']}/{item['key']}"
        yield item["key"], os.path.exists(index), [fetched, f"index_bundle/{bundle}"]
        for base in bundle_bases(index) if os.path.exists(index) else []:
            course = f"sql_course/{bundle}/{base}"
            yield f"{item['key']}: {base}", _done(course), [course]
            yield f"{base} (load)", _done(f"load/sql/{base}"), [f"load/sql/{base}"]
            yield f"{base} (report)", _done(f"report/{base}"), [f"report/{base}"]
        done = _done("report_organisation")
        yield "the organisation's report tables", done, ["report/organisation"]
    yield "the report templates' receipt", _done("report_templates"), ["report/templates"]
    yield "the run report", os.path.exists(RUN_REPORT[0]), ["run_report"]


def failures():
    """What failed, by source object or course: a step whose log is there but not its result.
    Printed at the end of a failed run (with --keep-going, everything else was done)."""
    lines = []
    for what, done, logs in _steps():
        written = [out(f"logs/{name}.log") for name in logs]
        written = [path for path in written if os.path.exists(path)]
        if written and not done:
            lines.append(f"  {what}: see {max(written, key=os.path.getmtime)}")
    return "\n".join([*(["Not done, and why:", *lines] if lines else []), *refused_members()])


def planned_inputs():
    """The absolute paths the jobs this run plans will read (called once the plan is made)."""
    return {os.path.abspath(f) for job in workflow.dag.needrun_jobs() for f in job.input}


def clean_up(at_start=False):
    """Plaintext a killed run left behind goes at the start and the end of the next (see
    edxflow.fetch.leftovers); at the start, nothing a planned job reads."""
    removed = remove_leftovers(
        config["results_dir"],
        config["keep_decrypted"],
        config["keep_encrypted"],
        planned_inputs() if at_start else None,
    )
    if removed:
        logger.info(f"Removed {len(removed)} file(s) an interrupted run left behind.")
