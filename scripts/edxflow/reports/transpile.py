"""Report SQL for DuckDB: our templates are BigQuery Standard SQL; `to_duckdb` translates one with
sqlglot (read="bigquery", write="duckdb") and then fixes what sqlglot 30.31 gets wrong for DuckDB
1.5, by rewriting the parsed BigQuery syntax tree before DuckDB SQL is generated:

- `UNNEST(a) AS x WITH OFFSET AS o`: sqlglot emits `WITH ORDINALITY`, which counts from 1; BigQuery's
  offset counts from 0. Rewritten to a subquery that subtracts 1.
- `EXTRACT(DAYOFWEEK FROM t)`: BigQuery 1 (Sunday) .. 7, DuckDB 0 (Sunday) .. 6: add 1.
- `FORMAT('%d-%s', ...)`: BigQuery's printf-style format reaches DuckDB's `format` (which uses `{}`)
  and comes back unformatted: rewritten to DuckDB `printf` (`%t` becomes `%s` of the value cast to
  VARCHAR; `%T` and `*` widths are refused).
- `ARRAY_AGG(x ORDER BY y LIMIT n)`: DuckDB has no LIMIT inside an aggregate: `LIST_SLICE(ARRAY_AGG(x
  ORDER BY y), 1, n)`.
- `APPROX_TOP_COUNT(x, n)`: DuckDB's approx_top_k returns bare values, not (value, count) structs:
  rewritten to an exact count (`histogram`), the n most frequent first, as structs with `value` and
  `count` (NULL values are not counted, unlike BigQuery).
- `TIMESTAMP_DIFF(a, b, SECOND)` (and MICROSECOND .. DAY): BigQuery counts whole intervals, sqlglot
  emits DuckDB `date_diff`, which counts boundaries crossed (00:00:00.9 to 00:00:01.1 is 1 second
  there, 0 in BigQuery): rewritten to DuckDB `date_sub`, which counts whole intervals.
- `JSON_EXTRACT_SCALAR(s, path)` / `JSON_EXTRACT`: BigQuery gives NULL for a string that is not
  JSON (tracking-log events often are not), DuckDB fails the query: guarded with `json_valid`.
- `COUNTIF(x)`: BigQuery gives 0 when no row has x true (all NULL, or no rows); DuckDB's
  `count_if` gives NULL then: wrapped in `COALESCE(…, 0)` (around the window, for `OVER`).
- wildcard tables `` `ds.tracklog_*` `` with `_TABLE_SUFFIX`: rewritten to `UNION ALL BY NAME` over
  the shard tables named in `log_shards` that match the prefix, each with a `_TABLE_SUFFIX` column
  (excluded again from a `*` of the select that reads the wildcard, as BigQuery's pseudo column is).
  With no matching shard there is no schema to build even an empty result from, so that is a
  TranspileError naming the wildcard: the caller should not build log reports for a course without
  logs.
- `DECLARE x INT64 DEFAULT 5; SELECT ... x ...`: the result must stay one statement (the caller
  wraps it in CREATE TABLE AS), so each declared variable is inlined as `CAST(default AS type)`
  wherever an unqualified column of that name appears. A real column of the same name is shadowed
  (BigQuery would prefer the column): give variables names no table uses. `SET` and other script
  statements are refused.

sqlglot's own translation is right (checked on DuckDB 1.5.5) for SAFE_CAST, REGEXP_CONTAINS,
REGEXP_EXTRACT, DATE(t), ARRAY_LENGTH, SPLIT(x, ':')[SAFE_OFFSET(1)], IFNULL, STDDEV,
LOGICAL_OR, ANY_VALUE, STRING_AGG, FORMAT_TIMESTAMP, ROW_NUMBER() OVER (...) with QUALIFY and
PARSE_TIMESTAMP with plain strptime specifiers (not `%E*S`/`%Ez`). TIMESTAMP values become DuckDB
TIMESTAMPTZ, so the session must use TimeZone UTC (the DuckDB warehouse does).

Whatever sqlglot itself reports as untranslatable is a TranspileError, as is SQL it cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, TokenError

from edxflow.core.errors import UserError

_SHARD_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_FORMAT_SPEC = re.compile(r"%([-+ #0']*)(\*|\d+)?(?:\.(\*|\d+))?([a-zA-Z%])")
_TIMESTAMP_DIFF_UNITS = {"MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"}
# sqlglot's warning for any EXTRACT from a TIMESTAMPTZ: moot, the DuckDB session runs in UTC.
_HARMLESS = ("EXTRACT from TIMESTAMPTZ",)
_TOP_COUNT = (
    "LIST_SLICE(LIST_SORT(LIST_TRANSFORM(MAP_ENTRIES(HISTOGRAM(__value)),"
    " __e -> {'count': __e.value, 'value': __e.key}), 'DESC'), 1, __n)"
)


class TranspileError(UserError):
    """Report SQL that cannot be translated to DuckDB; the message names the problem."""


def to_duckdb(sql: str, log_shards: Sequence[str] = ()) -> str:
    """The DuckDB SQL for one BigQuery Standard SQL query (optionally after DECLAREs)."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="bigquery") if s is not None]
    except (ParseError, TokenError) as error:
        raise TranspileError(f"the SQL does not parse as BigQuery SQL: {_parse_problem(error)}")
    query = _inline_declares(statements)
    _rewrite_unnest_offsets(query)
    _rewrite_dayofweek(query)
    _rewrite_format(query)
    _rewrite_array_agg_limit(query)
    _rewrite_approx_top_count(query)
    _rewrite_timestamp_diff(query)
    _rewrite_json_extract(query)
    _rewrite_countif(query)
    _rewrite_wildcard_tables(query, log_shards)
    generator = Dialect.get_or_raise("duckdb").generator(unsupported_level=ErrorLevel.IGNORE)
    out = generator.generate(query, copy=False)
    problems = [m for m in generator.unsupported_messages if not m.startswith(_HARMLESS)]
    if problems:
        raise TranspileError("the SQL cannot be translated to DuckDB: " + "; ".join(problems))
    return out


def _parse_problem(error: Exception) -> str:
    details = getattr(error, "errors", None)
    if details:
        first = details[0]
        return f"{first.get('description')} at line {first.get('line')}, column {first.get('col')}"
    return str(error).strip().splitlines()[0]


def _inline_declares(statements: list[exp.Expr]) -> exp.Expr:
    variables: dict[str, exp.Expr] = {}
    queries = []
    for statement in statements:
        if isinstance(statement, exp.Declare):
            for item in statement.expressions:
                kind = item.args.get("kind")
                default = item.args.get("default") or exp.null()
                default = _substitute(default.copy(), variables)
                value = exp.cast(default, kind) if kind else default
                for name in item.this if isinstance(item.this, list) else [item.this]:
                    variables[name.name.lower()] = value
        else:
            queries.append(statement)
    if len(queries) != 1:
        kinds = ", ".join(type(q).__name__.upper() for q in queries) or "none"
        raise TranspileError(
            f"expected one query after any DECLAREs, found {len(queries)} statements ({kinds}); "
            "other script statements (SET, IF, loops) are not supported"
        )
    if not isinstance(queries[0], exp.Query):
        raise TranspileError(f"expected a query, found {type(queries[0]).__name__.upper()}")
    return _substitute(queries[0], variables)


def _substitute(tree: exp.Expr, variables: dict[str, exp.Expr]) -> exp.Expr:
    if not variables:
        return tree
    for column in list(tree.find_all(exp.Column)):
        if not column.table and column.name.lower() in variables:
            replacement = variables[column.name.lower()].copy()
            if isinstance(column.parent, exp.Select) and column.arg_key == "expressions":
                replacement = exp.alias_(replacement, column.name)
            if column is tree:
                return replacement
            column.replace(replacement)
    return tree


def _rewrite_unnest_offsets(query: exp.Expr) -> None:
    for number, unnest in enumerate(list(query.find_all(exp.Unnest))):
        offset = unnest.args.get("offset")
        if not offset or not isinstance(unnest.parent, (exp.From, exp.Join)):
            continue
        alias = unnest.args.get("alias")
        columns = alias.columns if alias else []
        if len(columns) != 1:
            raise TranspileError("give UNNEST ... WITH OFFSET a value alias: UNNEST(a) AS x")
        offset_name = offset.name if isinstance(offset, exp.Identifier) else "offset"
        inner = unnest.copy()
        subquery = exp.select(
            exp.column(columns[0].copy()),
            exp.alias_(
                exp.Sub(this=exp.column(offset_name), expression=exp.Literal.number(1)), offset_name
            ),
        ).from_(inner)
        wrapped = exp.Subquery(
            this=subquery, alias=exp.TableAlias(this=exp.to_identifier(f"_unnest{number}"))
        )
        join = unnest.parent
        unnest.replace(wrapped)
        if isinstance(join, exp.Join) and join.side and not join.args.get("on"):
            join.set("on", exp.true())


def _rewrite_dayofweek(query: exp.Expr) -> None:
    for extract in list(query.find_all(exp.Extract)):
        if extract.this.name.upper() == "DAYOFWEEK":
            extract.replace(
                exp.Paren(this=exp.Add(this=extract.copy(), expression=exp.Literal.number(1)))
            )


def _rewrite_format(query: exp.Expr) -> None:
    for node in list(query.find_all(exp.Format)):
        pattern = node.this
        args = [a.copy() for a in node.expressions]
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            pattern, args = _printf_pattern(pattern.this, args)
        else:
            pattern = pattern.copy()
        node.replace(exp.Anonymous(this="PRINTF", expressions=[pattern, *args]))


def _printf_pattern(text: str, args: list[exp.Expr]) -> tuple[exp.Expr, list[exp.Expr]]:
    out, position = [], 0
    index = 0
    for match in _FORMAT_SPEC.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        flags, width, precision, conversion = match.groups()
        if conversion == "%":
            out.append("%%")
            continue
        if "*" in (width, precision):
            raise TranspileError(f"FORMAT '{text}': a '*' width or precision is not supported")
        if conversion == "T":
            raise TranspileError(f"FORMAT '{text}': %T is not supported, use %t or %s")
        if conversion == "t":
            if index < len(args):
                args[index] = exp.cast(args[index], exp.DataType.build("VARCHAR"))
            conversion = "s"
        out.append(match.group(0)[:-1] + conversion)
        index += 1
    out.append(text[position:])
    return exp.Literal.string("".join(out)), args


def _rewrite_array_agg_limit(query: exp.Expr) -> None:
    for agg in list(query.find_all(exp.ArrayAgg)):
        limit = agg.this
        if not isinstance(limit, exp.Limit):
            continue
        count = limit.expression.copy()
        agg.set("this", limit.this)
        outer = agg.parent if isinstance(agg.parent, exp.IgnoreNulls) else agg
        outer.replace(
            exp.Anonymous(
                this="LIST_SLICE", expressions=[outer.copy(), exp.Literal.number(1), count]
            )
        )


def _rewrite_approx_top_count(query: exp.Expr) -> None:
    for node in list(query.find_all(exp.ApproxTopK)):
        template = sqlglot.parse_one(_TOP_COUNT, read="duckdb")
        values = {"__value": node.this.copy(), "__n": node.expression.copy()}
        for column in list(template.find_all(exp.Column)):
            if column.name in values and not column.table:
                column.replace(values[column.name])
        node.replace(template)


def _rewrite_timestamp_diff(query: exp.Expr) -> None:
    for node in list(query.find_all(exp.TimestampDiff)):
        unit = node.args.get("unit")
        name = unit.name.upper() if unit is not None else ""
        if name not in _TIMESTAMP_DIFF_UNITS:
            continue
        node.replace(
            exp.Anonymous(
                this="DATE_SUB",
                expressions=[
                    exp.Literal.string(name.lower()),
                    node.expression.copy(),
                    node.this.copy(),
                ],
            )
        )


def _rewrite_json_extract(query: exp.Expr) -> None:
    for node in list(query.find_all(exp.JSONExtractScalar, exp.JSONExtract)):
        if isinstance(node.this, exp.Literal) and node.this.is_string:
            continue
        valid = exp.Anonymous(this="JSON_VALID", expressions=[node.this.copy()])
        node.replace(exp.Case(ifs=[exp.If(this=valid, true=node.copy())]))


def _rewrite_countif(query: exp.Expr) -> None:
    for node in list(query.find_all(exp.CountIf)):
        counted = node.parent if isinstance(node.parent, exp.Window) else node
        counted.replace(exp.Coalesce(this=counted.copy(), expressions=[exp.Literal.number(0)]))


def _rewrite_wildcard_tables(query: exp.Expr, log_shards: Sequence[str]) -> None:
    for table in list(query.find_all(exp.Table)):
        if not table.name.endswith("*"):
            continue
        prefix = table.name[:-1]
        wildcard = ".".join(p.name for p in table.parts)
        shards = sorted(s for s in log_shards if s.startswith(prefix) and len(s) > len(prefix))
        if not shards:
            raise TranspileError(
                f"the wildcard table `{wildcard}` matches no shard table: the course has no "
                f"{prefix}YYYYMMDD tables (load its logs first, or leave out reports that read them)"
            )
        for shard in shards:
            if not _SHARD_NAME.match(shard):
                raise TranspileError(f"shard table name {shard!r} is not a plain identifier")
        selects = []
        for shard in shards:
            source = exp.Table(
                this=exp.to_identifier(shard),
                db=table.args.get("db").copy() if table.args.get("db") else None,
                catalog=table.args.get("catalog").copy() if table.args.get("catalog") else None,
            )
            suffix = exp.alias_(exp.Literal.string(shard[len(prefix) :]), "_TABLE_SUFFIX")
            selects.append(exp.select(exp.Star(), suffix).from_(source))
        union = selects[0]
        for select in selects[1:]:
            union = exp.Union(this=union, expression=select, distinct=False, by_name=True)
        alias = table.args.get("alias")
        alias_name = alias.name if alias else prefix.rstrip("_") or "_wildcard"
        parent_select = table.parent_select
        table.replace(
            exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier(alias_name)))
        )
        if parent_select is not None:
            _hide_table_suffix(parent_select, alias_name)


def _hide_table_suffix(select: exp.Select, alias_name: str) -> None:
    for projection in select.expressions:
        star = None
        if isinstance(projection, exp.Star):
            star = projection
        elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
            if projection.table.lower() == alias_name.lower():
                star = projection.this
        if star is None:
            continue
        excluded = list(star.args.get("except_") or [])
        excluded.append(exp.column("_TABLE_SUFFIX"))
        star.set("except_", excluded)
