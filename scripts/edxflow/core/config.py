"""Workflow configuration: schema validation with defaults, and the checks a schema cannot express."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jsonschema
import yaml

from edxflow.core.courses import CourseIdError, base_names, normalize_course_id, read_course_list
from edxflow.core.errors import UserError
from edxflow.reports.extra_args import ExtraArgsError, parse_extra_args

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(UserError, ValueError):
    pass


def _with_defaults(validator_class):
    """A validator that fills in each property's `default` before validating it."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    default = subschema["default"]
                    instance[name] = (
                        type(default)(default) if isinstance(default, (dict, list)) else default
                    )
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _key_of(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        path = ".".join(filter(None, [path, ",".join(unknown)]))
        return f"unknown config key {path!r}"
    if error.validator == "required":
        return f"config key {error.message.split(chr(39))[1]!r}"
    return f"config key {path!r}"


def parse_date(value, key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"config key {key!r}: {value!r} is not a date; write it as YYYY-MM-DD"
        ) from None


def load_config_file(path: str | Path, missing_ok: bool = False) -> dict:
    """A YAML configuration file as a dict; a syntax error is reported as `file:line:column: problem`
    (Snakemake's own message names neither). A missing file is {} with `missing_ok`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise ConfigError(f"configuration file {path} does not exist: check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"configuration file {path} {_unreadable(error, 'the configuration')}"
        ) from None
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        context_mark = getattr(error, "context_mark", None)
        if context and context_mark:
            problem += f" ({context} at line {context_mark.line + 1})"
        raise ConfigError(f"{where}: YAML syntax error: {problem}; fix the file") from None
    if config is not None and not isinstance(config, dict):
        raise ConfigError(
            f"{path}: the configuration must be a mapping of keys (org: ..., dates: ...)"
        )
    return config or {}


def validate_config(config: dict, today: dt.date | None = None) -> dict:
    """Validate in place (filling defaults), raising ConfigError with the offending key named."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    errors = sorted(_Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        messages = [f"{_key_of(e)}: {e.message}" for e in errors]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(messages))
    begin, end = date_range(config, today)
    if begin > end:
        raise ConfigError(
            f"config keys 'dates.begin' ({begin}) and 'dates.end' ({end}): begin is after end"
        )
    source = config["source"]
    if source["kind"] == "local" and not source["local_root"]:
        raise ConfigError("config key 'source.local_root' is required when 'source.kind' is local")
    if config["storage"]["kind"] == "gcs" and not config["storage"]["bucket"]:
        raise ConfigError("config key 'storage.bucket' is required when 'storage.kind' is gcs")
    if config["warehouse"]["path"] is None:
        config["warehouse"]["path"] = str(Path(config["results_dir"]) / "warehouse.duckdb")
    if config["logs"]["dynamic_date"] is None:
        config["logs"]["dynamic_date"] = config["warehouse"]["log_tables"] == "partitioned"
    selected_courses(config)
    check_reports(config["reports"])
    return config


def check_reports(reports: dict) -> None:
    """What the schema cannot say about `reports`: the query directory exists and the extra
    arguments parse (edxflow.reports.extra_args), so a bad item stops the run before any job."""
    query_dir = reports["query_dir"]
    if query_dir is not None and not Path(query_dir).is_dir():
        problem = "is not a directory" if Path(query_dir).exists() else "does not exist"
        raise ConfigError(
            f"config key 'reports.query_dir': {query_dir} {problem}: name the directory holding "
            "your {table}.sql files (relative paths start in the directory snakemake runs in)"
        )
    try:
        parse_extra_args(reports["extra_args"])
    except ExtraArgsError as error:
        raise ConfigError(f"config key 'reports.extra_args': {error}") from None


def passphrase_problem(gpg: dict) -> str | None:
    """What is wrong with gpg.passphrase_env (a variable that is not set), or None."""
    from edxflow.fetch.decrypt import DecryptionError, read_passphrase

    try:
        read_passphrase(gpg["passphrase_env"])
    except DecryptionError as error:
        return str(error)
    return None


def selected_courses(config: dict) -> list[str]:
    """The course filter, normalised to Org/Num/Run and checked for name clashes; empty keeps all."""
    ids = []
    for index, text in enumerate(config["courses"]):
        try:
            ids.append(normalize_course_id(text))
        except CourseIdError as error:
            raise ConfigError(f"config key 'courses[{index}]': {error}") from None
    listing = config["course_list_file"]
    if listing:
        try:
            ids += read_course_list(listing)
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                f"config key 'course_list_file': {listing} {_unreadable(error)}"
            ) from None
        except CourseIdError as error:
            raise ConfigError(f"config key 'course_list_file': {error}") from None
    try:
        return sorted(base_names(ids))
    except CourseIdError as error:
        raise ConfigError(f"config keys 'courses' / 'course_list_file': {error}") from None


def _unreadable(
    error: OSError | UnicodeDecodeError, holding: str = "one course id per line"
) -> str:
    """Why a file named in the configuration cannot be read, and what to do."""
    if isinstance(error, UnicodeDecodeError):
        line = error.object[: error.start].count(b"\n") + 1
        return f"line {line} is not UTF-8: save the file as UTF-8"
    if isinstance(error, FileNotFoundError):
        return "does not exist: check the path (relative paths start in the directory snakemake runs in)"
    if isinstance(error, IsADirectoryError):
        return f"is a directory: name a file with {holding}"
    if isinstance(error, PermissionError):
        return "cannot be read (permission denied): let the user running the workflow read it"
    return f"cannot be read ({error.strerror or error})"


def date_range(config: dict, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    dates = config["dates"]
    end = dates["end"] and parse_date(dates["end"], "dates.end")
    return parse_date(dates["begin"], "dates.begin"), end or today or dt.datetime.now(dt.UTC).date()


if __name__ == "__main__":
    # PYTHONPATH=scripts python -m edxflow.core.config FILE...: check configuration files as the workflow
    # would (Snakemake reads --configfile itself and names no line of a YAML error).
    import sys

    try:
        for name in sys.argv[1:]:
            validate_config(load_config_file(name))
            print(f"{name}: valid")
    except ConfigError as error:
        sys.exit(str(error))
