"""Progress lines of long steps (edxflow.core.progress), on an injected clock."""

import io
import logging
import threading

from edxflow.core.progress import Progress, format_bytes, format_rate


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def progress(clock, lines, total=2_900_000_000, **options):
    return Progress(
        "split_tracking_log", "edx/2021-01-03", total, emit=lines.append, clock=clock, **options
    )


def test_a_line_at_most_every_interval_with_percent_amounts_and_rate():
    clock, lines = Clock(), []
    split = progress(clock, lines, items="lines")
    clock.now += 1
    split.add(100_000_000, items=100_000)
    assert lines == []  # a step quicker than the interval writes nothing until its end
    clock.now += 4
    split.add(1_100_000_000, items=325_000)
    assert lines == ["split_tracking_log edx/2021-01-03: 41% (1.2 GB of 2.9 GB), 85,000 lines/s"]
    clock.now += 4.9
    split.add(1_000_000)
    assert len(lines) == 1  # 4.9 s after the last line
    clock.now += 0.1
    split.add(1_000_000)
    assert len(lines) == 2 and lines[1].startswith("split_tracking_log edx/2021-01-03: 41% (1.2 GB")


def test_the_final_line_says_the_amount_time_and_rate_once():
    clock, lines = Clock(), []
    with progress(clock, lines, items="lines") as split:
        clock.now += 4
        split.add(2_900_000_000, items=850_000)
        clock.now += 6
    split.finish()
    assert lines == [
        "split_tracking_log edx/2021-01-03: done, 2.9 GB (850,000 lines) in 10.0 s, 85,000 lines/s"
    ]


def test_without_items_the_rate_is_of_the_amount():
    clock, lines = Clock(), []
    course = Progress(
        "sql_course", "MITx/6.002x/2012_Fall", 290_000_000, emit=lines.append, clock=clock
    )
    clock.now += 6
    course.add(120_000_000)
    course.finish()
    assert lines == [
        "sql_course MITx/6.002x/2012_Fall: 41% (120.0 MB of 290.0 MB), 20.0 MB/s",
        "sql_course MITx/6.002x/2012_Fall: done, 120.0 MB in 6.0 s, 20.0 MB/s",
    ]


def test_counted_units_and_slow_rates():
    clock, lines = Clock(), []
    load = Progress(
        "load_files", "log edx/2021-01-03", 1000, "courses", emit=lines.append, clock=clock
    )
    clock.now += 300
    load.add(420)
    assert lines == ["load_files log edx/2021-01-03: 42% (420 of 1,000 courses), 1.4 courses/s"]


def test_percent_never_passes_100_and_an_empty_total_is_done():
    clock, lines = Clock(), []
    grown = progress(clock, lines, total=10)
    grown.add(15)
    assert grown.percent() == 100
    assert progress(clock, lines, total=0).percent() == 100
    assert progress(clock, lines, total=10).percent() == 0


def test_an_error_in_the_block_writes_no_final_line():
    clock, lines = Clock(), []
    try:
        with progress(clock, lines):
            raise ValueError("bad")
    except ValueError:
        pass
    assert lines == []


def test_an_inner_step_without_summary_ends_with_a_line_only_after_a_progress_line():
    clock, lines = Clock(), []
    with progress(clock, lines, summary=False) as quick:
        quick.add(10)
    assert lines == []
    with progress(clock, lines, total=100, summary=False) as slow:
        clock.now += 5
        slow.add(10)
    assert len(lines) == 2 and lines[1].startswith("split_tracking_log edx/2021-01-03: done, 10 B")


def test_reading_through_it_counts_the_bytes_read():
    clock, lines = Clock(), []
    member = progress(clock, lines, total=3 << 20)
    reader = member.reading(io.BytesIO(b"x" * (3 << 20)))
    assert len(reader.read(1 << 20)) == 1 << 20
    buffer = bytearray(1 << 20)
    assert reader.readinto(buffer) == 1 << 20
    clock.now += 5
    assert len(reader.read()) == 1 << 20 and reader.read() == b""
    assert member.done == 3 << 20 and lines[0].startswith(
        "split_tracking_log edx/2021-01-03: 100% (3.1 MB of 3.1 MB)"
    )


def test_threads_adding_at_once_lose_nothing():
    clock, lines = Clock(), []
    shared = progress(clock, lines, total=8 * 10_000, items="rows")

    def work():
        for _ in range(10_000):
            shared.add(1, items=2)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (shared.done, shared.items) == (80_000, 160_000)


def test_lines_go_to_the_log_by_default(caplog):
    clock = Clock()
    with caplog.at_level(logging.INFO, logger="edxflow.progress"):
        with Progress("load_files", "sql DemoX__DS101__2026_T1", 5, "tables", clock=clock) as load:
            load.add(5)
    assert [record.getMessage() for record in caplog.records] == [
        "load_files sql DemoX__DS101__2026_T1: done, 5 tables in 0.0 s, 0.0 tables/s"
    ]


def test_formats():
    assert format_bytes(999) == "999 B"
    assert format_bytes(1000) == "1.0 kB"
    assert format_bytes(2_949_000_000) == "2.9 GB"
    assert format_bytes(5 * 10**18) == "5000.0 PB"
    assert format_rate(0, 0, "rows") == "0.0 rows/s"
    assert format_rate(1_000_000, 2, "bytes") == "500.0 kB/s"
