"""Values coerced to the BigQuery column types of the derived tables' schemas (sql/schemas/*.json).

Every coercer returns a value of exactly its column's type, or None when the input cannot be read
as one (nothing raises). TIMESTAMPs are ISO 8601 strings in UTC with an explicit offset and
BigQuery's space separator (`2015-08-12 23:13:03+00:00`); edX stores naive datetimes in UTC.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import orjson

from edxflow.core.courses import CourseIdError, normalize_course_id

_EPOCH = datetime(1970, 1, 1)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_TRUE, _FALSE = frozenset({"true", "1", "yes", "t"}), frozenset({"false", "0", "no", "f"})


def json_text(value) -> str:
    """Compact JSON; the standard library (ASCII-escaped) takes what orjson refuses, e.g. integers
    beyond 64 bits."""
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, ensure_ascii=True)


def _without_lone_surrogates(value):
    """The standard library's JSON parser lets a lone `\\ud800` through; it cannot be written as UTF-8."""
    if type(value) is str:
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
    if type(value) is dict:
        return {
            _without_lone_surrogates(key): _without_lone_surrogates(item)
            for key, item in value.items()
        }
    if type(value) is list:
        return [_without_lone_surrogates(item) for item in value]
    return value


def loads_json(text: str | bytes):
    """Parse JSON: orjson first (fast, strict); then the standard library, which also accepts raw
    control characters inside strings, NaN and lone surrogates (replaced). Raises ValueError."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        return _without_lone_surrogates(json.loads(text, strict=False))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def to_string(value) -> str | None:
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return None
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return str(value) if kind is int or math.isfinite(value) else None
    return json_text(value)


def to_integer(value) -> int | None:
    """An int within BigQuery's INT64 range (nothing larger can be loaded, or written by orjson)."""
    kind = type(value)
    if kind is str:
        try:
            number = int(value)
        except ValueError:
            real = to_float(value)
            number = int(real) if real is not None and real.is_integer() else None
    elif kind is int or kind is bool:
        number = int(value)
    elif kind is float:
        number = int(value) if math.isfinite(value) and value.is_integer() else None
    else:
        return None
    return number if number is not None and _INT64_MIN <= number <= _INT64_MAX else None


def to_float(value) -> float | None:
    kind = type(value)
    if kind is str:
        try:
            number = float(value)
        except ValueError:
            return None
    elif kind is float or kind is int:
        number = float(value)
    else:
        return None
    return number if math.isfinite(number) else None


def to_boolean(value) -> bool | None:
    kind = type(value)
    if kind is bool:
        return value
    if kind is int:
        return value != 0 if value in (0, 1) else None
    if kind is str:
        lowered = value.strip().lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else None
    return None


def _is_dump_form(value: str) -> bool:
    """`YYYY-MM-DD HH:MM:SS[.ffffff]`, the dumps' own naive UTC form (datetime checks the numbers)."""
    return (
        (len(value) == 19 or len(value) == 26)
        and value[10] == " "
        and value[4] == "-"
        and value[13] == ":"
    )


def to_timestamp(value) -> str | None:
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)  # rejects MySQL's zero dates and 30 February
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.strip().removesuffix(" UTC"))
        except ValueError:
            return None
    if moment.tzinfo is None and _is_dump_form(value):
        return value + "+00:00"  # already canonical (and isoformat() is slow)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(sep=" ") + "+00:00"


def timestamp_from_epoch_ms(milliseconds: int | float) -> str | None:
    try:
        return (_EPOCH + timedelta(milliseconds=milliseconds)).isoformat(sep=" ") + "+00:00"
    except (OverflowError, ValueError):
        return None


COERCERS = {
    "STRING": to_string,
    "INTEGER": to_integer,
    "FLOAT": to_float,
    "BOOLEAN": to_boolean,
    "TIMESTAMP": to_timestamp,
}


def coerce_field(value, field: dict, leftovers: dict | None = None):
    """`value` as the schema field says; what cannot be kept goes to `leftovers[name]` if given."""
    name, repeated = field["name"], field.get("mode") == "REPEATED"
    if repeated:
        if value is None:
            return []
        items = value if type(value) is list else [value]
        item_field = {**field, "mode": "NULLABLE"}
        kept = [
            item for item in (coerce_field(item, item_field) for item in items) if item is not None
        ]
        if leftovers is not None and len(kept) != len(items):
            leftovers[name] = value
        return kept
    if field["type"] == "RECORD":
        if type(value) is not dict:
            if value is not None and leftovers is not None:
                leftovers[name] = value
            return None
        inner = {} if leftovers is not None else None
        record = coerce_record(value, field["fields"], inner)
        if inner:
            leftovers[name] = inner
        return record
    coerced = COERCERS[field["type"]](value)
    if coerced is None and value is not None and leftovers is not None:
        leftovers[name] = value
    return coerced


def coerce_record(record: dict, fields: list[dict], leftovers: dict | None = None) -> dict:
    """Every schema column (None, or [] when REPEATED, if `record` lacks it), coerced. Keys the
    schema does not know, and values that could not be coerced, go to `leftovers` if given."""
    row = {
        field["name"]: coerce_field(record.get(field["name"]), field, leftovers) for field in fields
    }
    if leftovers is not None:
        for key, value in record.items():
            if key not in row:
                leftovers[key] = value
    return row


@lru_cache(maxsize=4096)
def _normalized(text: str) -> str | None:
    try:
        return normalize_course_id(text)
    except CourseIdError:
        return None


def course_id_or(value, fallback: str | None) -> str | None:
    """`value` as `Org/Num/Run`, or `fallback` when it is missing or not a course id."""
    normalized = _normalized(value) if type(value) is str else None
    return fallback if normalized is None else normalized


def course_id_or_text(value) -> str | None:
    """`value` as `Org/Num/Run`, or unchanged when it is not a course id (so it is not lost)."""
    return course_id_or(value, value if type(value) is str else None)


def null_if_null_text(value: str | None) -> str | None:
    """The literal `null` in any case (left in some dumps besides MySQL's `NULL`) is a null."""
    if value is not None and len(value) == 4 and value.lower() == "null":
        return None
    return value
