import functools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))

from edxflow import naming
from edxflow.course_index import read_index
from edxflow.load import warehouse_summary
from edxflow.config import ConfigError, selected_courses, validate_config
from edxflow.manifest import read_manifest, selection

try:
    validate_config(config)
except ConfigError as error:
    raise WorkflowError(str(error)) from None


wildcard_constraints:
    file_type="|".join(naming.FILE_TYPES),
    site="|".join(naming.SITES + (naming.ALL_SITES,)),
    date=r"\d{4}-\d{2}-\d{2}",
    bucket=r"[^/]+",
    bundle=r"[^/]+-\d{4}-\d{2}-\d{2}",
    base=r"[^/]+",


def out(path):
    """A path under the configured results directory."""
    return os.path.join(config["results_dir"], path)


MANIFEST_UNITS = naming.site_units(config["file_types"], config["sites"])
COURSES = selected_courses(config)


def manifest_params(wildcards):
    return selection(config, wildcards.file_type)


@functools.cache
def _read_manifest(path, mtime_ns):
    items = read_manifest(path)
    return items, {item["date"]: item for item in items}, {item["key"]: item for item in items}


def _manifest(file_type, site):
    """(path, objects, by date, by key) of a manifest; the checkpoint must have run (Snakemake
    re-plans after it). Input functions call this once per job: each manifest version is read
    once, not thousands of times."""
    path = checkpoints.manifest.get(file_type=file_type, site=site).output.manifest
    return (path, *_read_manifest(path, os.stat(path).st_mtime_ns))


def listed(file_type, site):
    return _manifest(file_type, site)[1]


def listed_on(file_type, site, date):
    path, _, by_date, _ = _manifest(file_type, site)
    if date not in by_date:
        raise WorkflowError(
            f"{path} lists no {file_type} object dated {date}: check `dates` and the source"
        )
    return by_date[date]


def raw_path(item):
    return out(f"raw/{item['bucket']}/{item['key']}")


def manifest_of_key(wildcards):
    """The manifest listing the object. A new listing (say, with a later end date) must not make
    every download, split and load look outdated: its time is ignored, the object's own entry is
    a param (a changed object is fetched again)."""
    file_type, site = naming.classify_key(wildcards.key)
    return ancient(checkpoints.manifest.get(file_type=file_type, site=site).output.manifest)


def listed_object(wildcards):
    return _manifest(*naming.classify_key(wildcards.key))[3].get(wildcards.key)


def encrypted_log(wildcards):
    return raw_path(listed_on("log", wildcards.site, wildcards.date))


def encrypted_email(wildcards):
    return raw_path(listed_on("email", naming.ALL_SITES, wildcards.date))


def all_manifests(wildcards=None):
    return [out(f"manifests/objects/{t}/{s}.json") for t, s in MANIFEST_UNITS]


def all_downloads(wildcards):
    return [raw_path(item) for t, s in MANIFEST_UNITS for item in listed(t, s)]


def listed_items(file_type):
    """(site, object) for every listed object of a file type."""
    return [
        (site, item)
        for unit_type, site in MANIFEST_UNITS
        if unit_type == file_type
        for item in listed(unit_type, site)
    ]


def decrypted_logs(wildcards):
    return [
        out(f"decrypted/log/{site}/{item['date']}.log.gz") for site, item in listed_items("log")
    ]


def decrypted_emails(wildcards):
    return [out(f"receipts/decrypt/email/{item['date']}.json") for _, item in listed_items("email")]


def all_decrypted(wildcards):
    return decrypted_logs(wildcards) + decrypted_emails(wildcards)


def all_splits(wildcards):
    return [
        out(f"receipts/split_tracking_log/{site}/{item['date']}.json")
        for site, item in listed_items("log")
    ]


def sql_bundle(wildcards):
    return raw_path(listed_on("sql", naming.ALL_SITES, wildcards.bundle[-10:]))


def bundle_name(item):
    return item["key"].removesuffix(".zip")


def all_bundle_indexes(wildcards):
    return [out(f"manifests/sql/{bundle_name(item)}.json") for _, item in listed_items("sql")]


def sql_courses(wildcards):
    """A receipt per course of every bundle (the index checkpoint says which courses)."""
    receipts = []
    for _, item in listed_items("sql"):
        index = checkpoints.index_bundle.get(bundle=bundle_name(item)).output.index
        for entry in read_manifest(index)["courses"]:
            receipts.append(out(f"receipts/sql_course/{bundle_name(item)}/{entry['base']}.json"))
    return receipts


def email_tables(wildcards):
    return [out(f"receipts/email_opt_in/{item['date']}.json") for _, item in listed_items("email")]


def sql_latest(wildcards):
    return [out("manifests/sql/latest.json")] if "sql" in config["file_types"] else []


# Every per-course file, as separate input functions: each may wait on a different checkpoint.
ALL_SPLIT = [all_manifests, all_splits, email_tables, sql_latest, sql_courses]

PUBLISHING = config["storage"]["kind"] == "gcs"
# BigQuery loads the published objects when there are some; DuckDB always reads the local files.
LOAD_BUCKET = (
    config["storage"]["bucket"]
    if PUBLISHING and config["warehouse"]["kind"] == "bigquery"
    else None
)


def course_index_inputs(wildcards):
    """What the course index of a file type is built from: every step that writes such files."""
    if wildcards.file_type == "log":
        return all_splits(wildcards)
    if wildcards.file_type == "sql":
        return [*sql_latest(wildcards), *sql_courses(wildcards)]
    return email_tables(wildcards)


@functools.cache
def _read_index(path, mtime_ns):
    return read_index(path)


def indexed_courses(file_type):
    """base -> its files (relative to results_dir); the course_index checkpoint must have run."""
    path = checkpoints.course_index.get(file_type=file_type).output.index
    return _read_index(path, os.stat(path).st_mtime_ns)


def course_files(wildcards):
    return [out(name) for name in indexed_courses(wildcards.file_type)[wildcards.base]]


def published_receipt(wildcards):
    return (
        [out(f"receipts/publish/{wildcards.file_type}/{wildcards.base}.json")]
        if LOAD_BUCKET
        else []
    )


def _per_course(step):
    def receipts(wildcards):
        return [
            out(f"receipts/{step}/{file_type}/{base}.json")
            for file_type in config["file_types"]
            for base in indexed_courses(file_type)
        ]

    return receipts


# Nothing to publish with storage.kind none: the `publish` target then builds nothing.
all_published = _per_course("publish") if PUBLISHING else []
all_loaded = _per_course("load")
# The default target: everything split, published when storage is set, and loaded.
ALL = [*ALL_SPLIT, all_published, all_loaded]


def encrypted_output(path):
    """Encrypted downloads are removed once decrypted, unless keep_encrypted."""
    return path if config["keep_encrypted"] else temp(path)


def decrypted_log_output(path):
    """Decrypted logs are personal data: removed once split, unless keep_decrypted."""
    return path if config["keep_decrypted"] else temp(path)


def run_summary():
    lines = []
    for file_type, site in MANIFEST_UNITS:
        path = out(f"manifests/objects/{file_type}/{site}.json")
        if os.path.exists(path):
            items = read_manifest(path)
            where = f"{file_type}" + (f" ({site})" if site != naming.ALL_SITES else "")
            lines.append(
                f"  {where}: {len(items)} object(s), {sum(i['size'] for i in items)} bytes"
            )
    if lines and all(" 0 object(s)" in line for line in lines):
        lines.append(
            "  No object matched the configuration (org, sites, file_types, dates): nothing to do."
        )
    parts = ["Package objects selected:", *lines] if lines else []
    loaded = warehouse_summary(config["results_dir"], config["warehouse"])
    return "\n".join([*parts, loaded] if loaded else parts)
