"""Extra template variables for the report queries (config `reports.extra_args`, simeon's
`--extra-args`): a mapping, or simeon's string form `k1=v1,k2:i=2,k3:f=1.5,k4:s=x`.

The string form, item by item (items are separated by `,`, so a value cannot hold one):
* `key=value` is a string; `key:i=value` an int, `key:f=value` a float, `key:s=value` a string.
  Any other type letter is an error (simeon falls back to a string).
* The value is everything after the first `=`: `q=a=b` is `"a=b"` (simeon keeps only `"a"`).
* A repeated key becomes a list, in order: `l:i=1,l:i=2` is `[1, 2]`.
* Spaces around an item are ignored and empty items skipped, so `a=1, b=2,` is `a=1,b=2`.

A mapping's values must be strings, ints, floats, booleans or lists of them.

Either way, keys are identifiers that do not shadow the renderer's own variables (RESERVED), floats
are finite, `suffix_start`/`suffix_end` (the first and last day of the logs the log queries read)
are single YYYYMMDD dates, returned as strings, with start <= end, and `timeout_short`/
`timeout_long` (the time tables' gaps that end a session, in minutes; 5 and 30 when not given) are
whole numbers of minutes from 1, given as integers or digits, returned as integers. A bad item
raises ExtraArgsError naming it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping

from edxflow.core.errors import UserError

# Variables the renderer defines itself (templates.render): an extra argument may not replace one.
RESERVED = frozenset(
    {"course_id", "latest_dataset", "log_dataset", "geo_table", "youtube_table", "tracklog"}
    | {"has_table", "has_latest_table", "has_log_table"}
)
SUFFIX_KEYS = ("suffix_start", "suffix_end")
TIMEOUT_KEYS = ("timeout_short", "timeout_long")

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT = re.compile(r"^[+-]?[0-9]+$")
_TYPES = {"i": "an integer", "f": "a number", "s": "a string"}

Value = str | int | float | bool
ExtraArgs = dict[str, Value | list[Value]]


class ExtraArgsError(UserError, ValueError):
    pass


def parse_extra_args(value: str | Mapping | None) -> ExtraArgs:
    """The extra arguments of None (none), a mapping or simeon's string form, checked (a new dict)."""
    if value is None:
        return {}
    if isinstance(value, str):
        parsed = _parse_string(value)
    elif isinstance(value, Mapping):
        parsed = {key: _mapping_value(key, item) for key, item in value.items()}
    else:
        raise ExtraArgsError(
            f"extra_args must be a mapping or a string like 'k1=v1,k2:i=2', not {_kind(value)}"
        )
    return _check_timeouts(_check_suffixes(parsed))


def _parse_string(text: str) -> ExtraArgs:
    parsed: ExtraArgs = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, equals, raw = item.partition("=")
        if not equals:
            raise ExtraArgsError(f"extra_args item {item!r} has no '=': write key=value")
        key, colon, letter = name.strip().partition(":")
        _check_key(key, item)
        if colon and letter not in _TYPES:
            raise ExtraArgsError(
                f"extra_args item {item!r}: unknown type {letter!r}; write key:i=1 (integer), "
                "key:f=1.5 (number), key:s=text or key=text (string)"
            )
        converted = _convert(raw, letter if colon else "s", item)
        if key in parsed:
            previous = parsed[key]
            parsed[key] = (
                [*previous, converted] if isinstance(previous, list) else [previous, converted]
            )
        else:
            parsed[key] = converted
    return parsed


def _convert(raw: str, letter: str, item: str) -> Value:
    if letter == "s":
        return raw
    text = raw.strip()
    try:
        if letter == "i":
            if not _INT.match(text):
                raise ValueError
            return int(text)
        number = float(text)
    except ValueError:
        raise ExtraArgsError(
            f"extra_args item {item!r}: {raw!r} is not {_TYPES[letter]}; "
            f"write the value as {'1' if letter == 'i' else '1.5'} or drop the :{letter}"
        ) from None
    return _finite(number, item)


def _mapping_value(key, value) -> Value | list[Value]:
    if not isinstance(key, str):
        raise ExtraArgsError(f"extra_args key {key!r} is not a name: write it as a word")
    _check_key(key, key)
    if isinstance(value, list | tuple):
        return [_scalar(key, item) for item in value]
    return _scalar(key, value)


def _scalar(key: str, value) -> Value:
    if isinstance(value, float):
        return _finite(value, key)
    if isinstance(value, str | int | bool):
        return value
    raise ExtraArgsError(
        f"extra_args key {key!r}: {value!r} is {_kind(value)}; a value is a string, a number, "
        "true/false or a list of them"
    )


def _check_key(key: str, item: str) -> None:
    if not _KEY.match(key):
        raise ExtraArgsError(
            f"extra_args item {item!r}: {key!r} is not a name; use letters, digits and _ "
            "(not starting with a digit)"
        )
    if key in RESERVED:
        raise ExtraArgsError(
            f"extra_args item {item!r}: {key!r} is set by the report renderer itself; "
            f"choose another name (reserved: {', '.join(sorted(RESERVED))})"
        )


def _finite(number: float, item: str) -> float:
    if not math.isfinite(number):
        raise ExtraArgsError(f"extra_args item {item!r}: {number} is not a finite number")
    return number


def _check_suffixes(parsed: ExtraArgs) -> ExtraArgs:
    days = {}
    for key in SUFFIX_KEYS:
        if key not in parsed:
            continue
        value = parsed[key]
        text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
        try:
            if text is None or not re.fullmatch(r"[0-9]{8}", text):
                raise ValueError
            days[key] = dt.datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            raise ExtraArgsError(
                f"extra_args {key}={value!r} is not a date; write one day as YYYYMMDD "
                f"({key}=20210131)"
            ) from None
        parsed[key] = text
    if len(days) == 2 and days["suffix_start"] > days["suffix_end"]:
        raise ExtraArgsError(
            f"extra_args suffix_start={parsed['suffix_start']} is after "
            f"suffix_end={parsed['suffix_end']}: swap them"
        )
    return parsed


def timeout_minutes(value) -> int | None:
    """A timeout in whole minutes (an int, or a string of digits) from 1, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        value = int(value.strip())
    return value if isinstance(value, int) and value >= 1 else None


def _check_timeouts(parsed: ExtraArgs) -> ExtraArgs:
    for key in TIMEOUT_KEYS:
        if key not in parsed:
            continue
        minutes = timeout_minutes(parsed[key])
        if minutes is None:
            raise ExtraArgsError(
                f"extra_args {key}={parsed[key]!r} is not a number of minutes; write one whole "
                f"number from 1 ({key}:i=10)"
            )
        parsed[key] = minutes
    return parsed


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"
