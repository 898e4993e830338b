"""The run report (edxflow.run_report, scripts/run_report.py): plots and tables drawn from receipts
alone, written here by hand in the workflow's layout. The workflow's own run report, on a real run,
is checked by tests/test_dot_test.py."""

import csv
import importlib.util
import json
import os
import time
from pathlib import Path

from PIL import Image

from edxflow.core.courses import course_base_name
from edxflow.run_report.build import RunReportFiles, write_run_report
from edxflow.run_report.plots import top_and_other
from edxflow.run_report.receipts import find_receipts
from tests.helpers import REPO, run_script

COURSES = ["MITx/6.002x/2012_Fall", "MITx/8.01x/2013_Spring", "HarvardX/CS50/2014"]


def write(path: Path, value) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return str(path)


def split_receipt(results, site, date, by_course, no_course=0, rejected_by_reason=None):
    rejected_by_reason = rejected_by_reason or {}
    rejected = sum(rejected_by_reason.values())
    receipt = {
        "input": {"date": date, "site": site, "bytes": 10},
        "lines_in": sum(by_course.values()) + no_course + rejected + 1,
        "blank": 1,
        "by_course": by_course,
        "no_course": no_course,
        "rejected": rejected,
        "rejected_by_reason": rejected_by_reason,
        "duplicates": 0,
        "filtered_out": 0,
        "seconds": 0.5,
    }
    return write(results / "receipts" / "split_tracking_log" / site / f"{date}.json", receipt)


def load_receipt(results, relative, courses: dict[str, dict[str, int]], file_type="log"):
    """courses: base -> unit key -> rows; log units are `tracklog$YYYYMMDD`."""
    entries = {}
    for base, units in courses.items():
        dataset = f"{base}_logs" if file_type == "log" else f"{base}_latest"
        tables = {}
        for key, rows in units.items():
            table = key.split("$")[0]
            entry = tables.setdefault(table, {"dataset": dataset, "rows": 0, "units": {}})
            entry["rows"] += rows
            entry["units"][key] = {"rows": rows, "files": [], "loaded": True}
        entries[base] = {
            "course": base,
            "datasets": [dataset],
            "tables": tables,
            "loaded": list(units),
            "unchanged": 0,
            "dropped": [],
        }
    return write(
        results / "receipts" / "load" / f"{relative}.json",
        {"warehouse": "duckdb", "file_type": file_type, "courses": entries, "seconds": 1.25},
    )


def small_run(results: Path) -> None:
    """Two days on two sites, three courses, rejects of two kinds, loads of both days (the second
    day's load reloading the first day of one course), a course's SQL tables, report tables, and
    a listing with an object passed over."""
    a, b, c = COURSES
    split_receipt(results, "edx", "2026-11-01", {a: 10, b: 5}, 3, {"invalid UTF-8": 1})
    split_receipt(results, "edge", "2026-11-01", {c: 7, a: 3}, 1, {})
    split_receipt(
        results, "edx", "2026-11-02", {a: 20, c: 2}, 4, {"invalid UTF-8": 2, "no valid time": 5}
    )
    base_a, base_b, base_c = (course_base_name(course) for course in COURSES)
    load_receipt(
        results,
        "log/edx/2026-11-01",
        {base_a: {"tracklog$20261101": 10}, base_b: {"tracklog$20261101": 5}},
    )
    load_receipt(results, "log/edge/2026-11-01", {base_c: {"tracklog$20261101": 7}})
    newer = load_receipt(
        results,
        "log/edx/2026-11-02",
        # a's day 1 loaded again with the day-2 file's events of it: the newest count wins
        {
            base_a: {"tracklog$20261102": 20, "tracklog$20261101": 11},
            base_c: {"tracklog$20261102": 2},
        },
    )
    later = time.time() + 10
    os.utime(newer, (later, later))
    load_receipt(results, "sql/" + base_a, {base_a: {"auth_user": 30, "studentmodule": 400}}, "sql")
    write(
        results / "receipts" / "sql_course" / "mitx-2026-11-02" / f"{base_a}.json",
        {"course_id": a, "base": base_a, "tables": {}, "seconds": 3.5},
    )
    write(
        results / "receipts" / "report" / f"{base_a}.json",
        {
            "base": base_a,
            "course_id": a,
            "latest_dataset": f"{base_a}_latest",
            "seconds": 9.0,
            "tables": {
                "person_course": {"rows": 30, "status": "rebuilt"},
                "video_axis": {"rows": 4, "status": "unchanged"},
                "ora_events": {"status": "skipped", "reason": "no ORA"},
            },
        },
    )
    write(
        results / "receipts" / "report_organisation.json",
        {
            "org": "mitx",
            "dataset": "mitx_reports",
            "courses": 1,
            "seconds": 2.0,
            "tables": {"course_summary": {"rows": 1, "status": "rebuilt"}},
        },
    )
    objects = results / "manifests" / "objects"
    write(
        objects / "log" / "edx.json",
        [
            {
                "bucket": "b",
                "key": f"mitx/edx/events/2026/mitx-edx-events-{day}.log.gz.gpg",
                "size": 100,
                "date": day,
            }
            for day in ("2026-11-01", "2026-11-02")
        ],
    )
    write(
        objects / "log" / "edx.passed_over.json",
        [
            {
                "bucket": "b",
                "key": "mitx/edx/events/2026/<notes>.txt",
                "size": 5,
                "reason": "no date in the object's name",
            }
        ],
    )


def read_csv(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_plots_and_tables_hold_the_receipts_numbers(tmp_path):
    results = tmp_path / "results"
    small_run(results)
    files = RunReportFiles.in_directory(tmp_path / "report")
    data = write_run_report(find_receipts(results), files)

    events = data["events_per_day"]
    assert events["days"] == ["2026-11-01", "2026-11-02"]
    a, b, c = COURSES
    # largest course first; the sites of a day added up
    assert events["series"] == {a: [13, 20], c: [7, 2], b: [5, 0]}
    assert data["events_by_course"] == {c: 9, a: 33, b: 5}
    outside = data["no_course_and_rejects_per_day"]
    assert outside["series"] == {
        "no course": [4, 4],  # drawn first, at the bottom
        "no valid time": [0, 5],
        "invalid UTF-8": [1, 2],
    }
    assert data["lines_per_day"]["2026-11-01"] == {
        "lines_in": 32,
        "blank": 2,
        "events": 25,
        "no_course": 4,
        "rejected": 1,
        "duplicates": 0,
        "filtered_out": 0,
    }
    assert json.loads(Path(files.data).read_text()) == data

    times = data["step_times"]
    assert times["steps"]["split_tracking_log"] == {
        "jobs": 3,
        "seconds": 1.5,
        "median": 0.5,
        "longest": 0.5,
    }
    assert [(job["step"], job["unit"]) for job in times["longest"][:3]] == [
        ("report_course", course_base_name(a)),
        ("sql_course", course_base_name(a)),
        ("report_organisation", ""),
    ]
    assert times["steps"]["load_files"]["jobs"] == 4

    rows = {(row["course"], row["table"]): row for row in read_csv(files.rows_csv)}
    base_a = course_base_name(a)
    assert rows[(base_a, "tracklog")]["rows"] == "31"  # day 1 as the newer load says, + day 2
    assert rows[(course_base_name(c), "tracklog")]["rows"] == "9"
    assert rows[(base_a, "studentmodule")]["dataset"] == f"{base_a}_latest"
    assert rows[(base_a, "person_course")] == {
        "course": base_a,
        "dataset": f"{base_a}_latest",
        "table": "person_course",
        "rows": "30",
        "stage": "report",
        "status": "rebuilt",
    }
    assert (
        rows[(base_a, "ora_events")]["rows"] == ""
        and rows[(base_a, "ora_events")]["status"] == "skipped"
    )
    assert rows[("(all 1 courses)", "course_summary")]["dataset"] == "mitx_reports"
    page = Path(files.rows_html).read_text()
    assert "<td>tracklog</td>" in page and '<td class="n">31</td>' in page

    objects = read_csv(files.objects_csv)
    assert [(item["status"], item["date"]) for item in objects] == [
        ("selected", "2026-11-01"),
        ("selected", "2026-11-02"),
        ("passed over", ""),
    ]
    assert objects[2]["reason"] == "no date in the object's name"
    page = Path(files.objects_html).read_text()
    assert "&lt;notes&gt;.txt" in page and "<notes>" not in page  # keys are escaped

    for path in (files.events, files.outside, files.times):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (1000, 520)
            assert "Software" not in image.info


def test_the_same_receipts_give_the_same_bytes(tmp_path):
    results = tmp_path / "results"
    small_run(results)
    first = RunReportFiles.in_directory(tmp_path / "first")
    second = RunReportFiles.in_directory(tmp_path / "second")
    write_run_report(find_receipts(results), first)
    write_run_report(find_receipts(results), second)
    for name, path in vars(first).items():
        assert Path(path).read_bytes() == Path(getattr(second, name)).read_bytes(), name


def test_a_run_without_receipts_gives_empty_plots_that_say_no_data(tmp_path):
    files = RunReportFiles.in_directory(tmp_path / "report")
    data = write_run_report(find_receipts(tmp_path / "nothing"), files)
    assert data["events_per_day"] == {"days": [], "series": {}}
    assert data["no_course_and_rejects_per_day"] == {"days": [], "series": {}}
    assert data["step_times"] == {"steps": {}, "longest": []}
    assert read_csv(files.rows_csv) == [] and read_csv(files.objects_csv) == []
    assert "No load or report receipt" in Path(files.rows_html).read_text()
    assert "nothing was listed" in Path(files.objects_html).read_text()
    for path in (files.events, files.outside, files.times):
        with Image.open(path) as image:
            assert image.size == (1000, 520)
            # something is drawn (the "No data" message), not a blank canvas
            assert len(image.convert("L").getcolors(1 << 16)) > 2


def test_a_day_with_only_logs_of_no_course_draws_them(tmp_path):
    results = tmp_path / "results"
    split_receipt(results, "edx", "2026-11-01", {}, 12, {})
    files = RunReportFiles.in_directory(tmp_path / "report")
    data = write_run_report(find_receipts(results), files)
    assert data["events_per_day"]["series"] == {}
    assert data["no_course_and_rejects_per_day"]["series"] == {"no course": [12]}


def test_thousands_of_courses_are_drawn_as_the_largest_and_one_other(tmp_path):
    results = tmp_path / "results"
    courses = [f"MITx/{number}x/2026_T1" for number in range(2500)]
    days = [f"2026-{month:02d}-{day:02d}" for month in (1, 2, 3) for day in range(1, 29)]
    for n, day in enumerate(days):
        split_receipt(
            results,
            "edx",
            day,
            # course i has i + 1 events a day, on every other day for the odd ones
            {course: i + 1 for i, course in enumerate(courses) if i % 2 == 0 or n % 2 == 0},
        )
    load_receipt(
        results,
        "sql/all",
        {course_base_name(course): {"auth_user": i} for i, course in enumerate(courses)},
        "sql",
    )
    files = RunReportFiles.in_directory(tmp_path / "report")
    started = time.monotonic()
    data = write_run_report(find_receipts(results), files)
    seconds = time.monotonic() - started
    series = data["events_per_day"]["series"]
    assert list(series)[:3] == [courses[-2], courses[-4], courses[-6]]  # every day, most a day
    assert len(series) == 11 and "other 2,490 courses" in series
    for n, day in enumerate(days):
        expected = sum(i + 1 for i in range(2500) if i % 2 == 0 or n % 2 == 0)
        assert sum(values[n] for values in series.values()) == expected, day
    assert len(data["events_by_course"]) == 2500
    assert len(read_csv(files.rows_csv)) == 2500  # the tables hold every course
    assert seconds < 60, seconds


def test_top_and_other_keeps_a_lone_other_label_as_itself():
    xs, series = top_and_other({"d": {"a": 3, "b": 2, "c": 1}}, top=2, other="other {count}")
    assert series == {"a": [3], "b": [2], "c": [1]}
    xs, series = top_and_other(
        {"d": {"a": 3, "b": 2, "c": 1, "e": 1}}, top=2, other="other {count}"
    )
    assert series == {"a": [3], "b": [2], "other 2": [2]}


def test_by_hand_from_a_results_directory(tmp_path):
    results = tmp_path / "results"
    small_run(results)
    done = run_script(
        "run_report.py",
        "--results-dir",
        str(results),
        "--outdir",
        str(tmp_path / "out"),
        "--top",
        "1",
    )
    assert done.returncode == 0, done.stderr
    assert "run report in" in done.stderr and "3 courses over 2 days" in done.stderr
    data = json.loads((tmp_path / "out" / "plot_data.json").read_text())
    assert list(data["events_per_day"]["series"]) == [COURSES[0], "other 2 courses"]
    assert run_script("run_report.py", "--help").stdout.startswith("usage:")


def test_the_screenshot_page_opens_the_run_report_and_shows_the_plot():
    """scripts/make_report_screenshot.py: the report's page, with the two clicks added at its end
    (the browser itself is not run here)."""
    spec = importlib.util.spec_from_file_location(
        "make_report_screenshot", REPO / "scripts" / "make_report_screenshot.py"
    )
    screenshot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshot)
    page = (
        "<html><body><script>var results = new Array(2);</script><script>var results = "
        '{"r/run_report/events_per_day.png": {"mime_type": "image/png"}, "r/x.json": {}};'
        "</script></body></html>"
    )
    path = screenshot.result_path(page, "events_per_day.png")
    assert path == "r/run_report/events_per_day.png"
    clicked = screenshot.with_clicks(page, path)
    assert clicked.endswith("</script>\n</body></html>") and clicked.count("</body>") == 1
    assert 'app.showCategory("Run report")' in clicked
    assert 'results["r/run_report/events_per_day.png"]' in clicked
