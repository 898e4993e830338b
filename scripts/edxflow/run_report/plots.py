"""The run report's plots, drawn with matplotlib's Agg renderer into PNG files of a fixed size.
Each function returns the data it drew (what build.py writes beside the plots), and draws an
empty plot saying "no data" when there is nothing to draw. Many series (thousands of courses) are
drawn as the largest `top` and one "other" series; the tables hold the rest.

The files are the same bytes for the same data: no creation time or software version in them, a
font matplotlib ships, and every series in a fixed order (largest first, ties by name).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from edxflow.core.atomic import atomic_path

SIZE = (10, 5.2)  # inches, at DPI: 1000 x 520 pixels
DPI = 100
TOP = 10
BARS_UP_TO = 92  # days drawn as bars; more as stacked steps
LABEL_LENGTH = 42
OTHER_COLOUR = "#9e9e9e"
NO_COURSE_COLOUR = "#5c6bc0"
FONT = {"font.family": "DejaVu Sans", "font.size": 9, "svg.hashsalt": "edxflow"}


def top_and_other(
    by_x: dict[str, dict[str, float]], top: int, other: str
) -> tuple[list[str], dict[str, list[float]]]:
    """(xs, label -> value at each x) of the `top` largest labels over all xs (ties by name), the
    others added up as `other (N ...)`: `other` is a format with {count}. With at most top + 1
    labels, all are drawn."""
    xs = list(by_x)
    totals: dict[str, float] = {}
    for values in by_x.values():
        for label, value in values.items():
            totals[label] = totals.get(label, 0) + value
    ranked = sorted(totals, key=lambda label: (-totals[label], label))
    kept, rest = (ranked, []) if len(ranked) <= top + 1 else (ranked[:top], ranked[top:])
    series = {label: [by_x[x].get(label, 0) for x in xs] for label in kept}
    if rest:
        series[other.format(count=len(rest))] = [
            sum(by_x[x].get(label, 0) for label in rest) for x in xs
        ]
    return xs, series


def _short(label: str) -> str:
    return label if len(label) <= LABEL_LENGTH else label[: LABEL_LENGTH - 1] + "…"


def _figure(widths: tuple[int, ...] = (1,)) -> tuple[Figure, list]:
    with _style():
        figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        axes = figure.subplots(1, len(widths), squeeze=False, width_ratios=widths)[0]
    return figure, list(axes)


def _style():
    import matplotlib

    return matplotlib.rc_context(FONT)


def _no_data(axes, message: str) -> None:
    axes.set_xticks([])
    axes.set_yticks([])
    for side in axes.spines.values():
        side.set_visible(False)
    axes.text(
        0.5, 0.5, f"No data\n{message}", ha="center", va="center", fontsize=12, color="#555555"
    )


def save(figure: Figure, path: str | Path) -> None:
    """The figure as a PNG at `path`, written whole or not at all, with no metadata that changes
    between runs or versions."""
    with _style(), atomic_path(path, 0o644) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI, metadata={"Software": None})


def _dates(xs: list[str]) -> list[float] | None:
    """The days as matplotlib's date numbers, None when a label is not a date."""
    try:
        return [date2num(dt.date.fromisoformat(x)) for x in xs]
    except ValueError:
        return None


def stacked_per_day(
    path: str | Path,
    by_day: dict[str, dict[str, float]],
    title: str,
    ylabel: str,
    empty: str,
    top: int = TOP,
    other: str = "other ({count:,})",
    first: str | None = None,
) -> dict:
    """Bars per day stacked by label (`first` at the bottom whatever its size), or stacked steps
    beyond BARS_UP_TO days; returns the data drawn: {days, series: label -> values}."""
    days, series = top_and_other(by_day, top, other)
    if first is not None and first in series:
        series = {first: series.pop(first), **series}
    figure, (axes,) = _figure()
    with _style():
        if not any(any(values) for values in series.values()):
            axes.set_title(title)
            _no_data(axes, empty)
        else:
            xs = _dates(days)
            positions = xs if xs is not None else list(range(len(days)))
            bottom = [0.0] * len(days)
            colours = _colours(list(series), first)
            for label, values in series.items():
                top_of = [b + v for b, v in zip(bottom, values)]
                style = {"label": _short(label), "color": colours[label], "linewidth": 0}
                if len(days) <= BARS_UP_TO:
                    axes.bar(positions, values, 0.8, bottom=bottom, **style)
                else:  # a bar a day would be thinner than a pixel, and slow to draw: steps
                    axes.fill_between(positions, bottom, top_of, step="mid", **style)
                bottom = top_of
            if xs is not None:
                locator = AutoDateLocator(maxticks=10)
                axes.xaxis.set_major_locator(locator)
                axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            else:  # days that are no dates (a split by hand): at most 20 of them named
                every = -(-len(days) // 20)
                axes.set_xticks(positions[::every], days[::every], rotation=90)
            axes.set_ylabel(ylabel)
            axes.set_title(title)
            axes.yaxis.set_major_formatter("{x:,.0f}")
            axes.grid(axis="y", color="#e0e0e0")
            axes.set_axisbelow(True)
            axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, reverse=True)
        save(figure, path)
    return {"days": days, "series": series}


def _colours(labels: list[str], first: str | None) -> dict[str, str]:
    palette = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#bcbd22",
        "#17becf",
        "#393b79",
        "#ad494a",
        "#637939",
    ]
    colours, at = {}, 0
    for label in labels:
        if label == first:
            colours[label] = NO_COURSE_COLOUR
        elif label.startswith("other"):
            colours[label] = OTHER_COLOUR
        else:
            colours[label] = palette[at % len(palette)]
            at += 1
    return colours


def _step_label(step: str, info: dict) -> str:
    return (
        f"{step}\n{_plural(info['jobs'], 'job')}, median {info['median']:.3g} s\n"
        f"longest {info['longest']:.3g} s"
    )


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def step_times(path: str | Path, jobs: list[dict], top: int = 15) -> dict:
    """Left, the seconds of each step added up over its jobs (with their number, median and
    longest); right, the `top` longest jobs. Returns the data drawn: {steps: step -> {jobs,
    seconds, median, longest}, longest: [{step, unit, seconds}]}."""
    steps: dict[str, list[float]] = {}
    for job in jobs:
        steps.setdefault(job["step"], []).append(job["seconds"])
    summary = {
        step: {
            "jobs": len(seconds),
            "seconds": round(sum(seconds), 3),
            "median": round(sorted(seconds)[len(seconds) // 2], 3),
            "longest": round(max(seconds), 3),
        }
        for step, seconds in steps.items()
    }
    longest = sorted(jobs, key=lambda job: (-job["seconds"], job["step"], job["unit"]))[:top]
    figure, (total_axes, job_axes) = _figure((2, 3))
    with _style():
        if not jobs:
            for axes, title in ((total_axes, "Seconds per step"), (job_axes, "Longest jobs")):
                axes.set_title(title)
                _no_data(axes, "no receipt with a time")
        else:
            names = list(summary)[::-1]  # the first step at the top
            total_axes.barh(
                [_step_label(name, summary[name]) for name in names],
                [summary[name]["seconds"] for name in names],
                color="#1f77b4",
            )
            total_axes.tick_params(axis="y", labelsize=8)
            total_axes.set_xlabel("seconds, all jobs of the step")
            total_axes.set_title("Seconds per step")
            labels = [_short(f"{job['step']} {job['unit']}".strip()) for job in longest][::-1]
            job_axes.barh(
                range(len(labels)), [job["seconds"] for job in longest][::-1], color="#ff7f0e"
            )
            job_axes.set_yticks(range(len(labels)), labels, fontsize=7)
            job_axes.set_xlabel("seconds")
            job_axes.set_title(f"Longest {len(longest)} of {len(jobs):,} jobs")
            for axes in (total_axes, job_axes):
                axes.grid(axis="x", color="#e0e0e0")
                axes.set_axisbelow(True)
        save(figure, path)
    return {"steps": summary, "longest": longest}
