"""A screenshot of a Snakemake report as a user sees it after two clicks: the run report's category
open in the side bar and one of its plots shown (docs/run-report.png in the README).

    python scripts/make_report_screenshot.py --report results/demo/report.html --output docs/run-report.png

The report is a single-page app without addresses for its views, so a copy of it gets a few lines
of script that make those two clicks (the app's own `showCategory` and `setView`, what the side
bar's buttons call) once it is drawn; headless Chromium (`apt-get install chromium`) renders the
copy and takes the screenshot, and Pillow reduces it to 256 colours to keep it small.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CATEGORY = "Run report"
CLICKS = """
<script>
setTimeout(function () {
  app.showCategory(%(category)s);
  setTimeout(function () {
    var result = results[%(path)s];
    var content = result.mime_type == "text/html" ? "html" : "img";  // as its eye button does
    app.setView({content: content, contentPath: result.data_uri, resultPath: %(path)s});
  }, 500);
}, 500);
</script>
</body>"""


def result_path(report_html: str, name: str) -> str:
    """The key of the report's result whose file is named `name`."""
    start = report_html.index("var results = {") + len("var results = ")
    results, _ = json.JSONDecoder().raw_decode(report_html, start)
    found = sorted(path for path in results if Path(path).name == name)
    if not found:
        raise SystemExit(f"the report has no result named {name}: run the workflow, then --report")
    return found[0]


def with_clicks(report_html: str, result: str) -> str:
    """The report's page with the clicks that open the run report and show `result`."""
    at = report_html.rindex("</body>")
    clicks = CLICKS % {"category": json.dumps(CATEGORY), "path": json.dumps(result)}
    return report_html[:at] + clicks + report_html[at + len("</body>") :]


def _chromium(browser: str, width: int, height: int, *options: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                *options,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout


PROBE = (
    "<html><body><p id=h></p><script>"
    "document.getElementById('h').textContent = 'viewport ' + window.innerHeight;"
    "</script></body></html>"
)


def viewport_shortfall(browser: str, directory: Path, height: int) -> int:
    """How many pixels of a headless window's height its page does not get (the window's own
    bars, about 90): the screenshot is taken that much taller, then cut to the page."""
    probe = directory / "probe.html"
    probe.write_text(PROBE)
    page = _chromium(browser, 800, height, "--dump-dom", probe.as_uri())
    return height - int(page.split("viewport ", 1)[1].split("<", 1)[0])


def screenshot(page: Path, output: Path, width: int, height: int, browser: str) -> None:
    """The page as a window of width x height pixels shows it, after its clicks."""
    taller = height + viewport_shortfall(browser, page.parent, height)
    _chromium(
        browser,
        width,
        taller,
        "--virtual-time-budget=5000",
        f"--screenshot={output}",
        page.as_uri(),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--report", required=True, help="the report.html of `snakemake --report`")
    parser.add_argument("--output", required=True, help="the PNG to write")
    parser.add_argument(
        "--result", default="events_per_day.png", help="the result shown (a PNG or an HTML page)"
    )
    parser.add_argument("--size", default="1440x680", help="the window, WIDTHxHEIGHT pixels")
    parser.add_argument("--browser", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)
    width, height = (int(part) for part in args.size.split("x"))
    report_html = Path(args.report).read_text(encoding="utf-8")
    page_html = with_clicks(report_html, result_path(report_html, args.result))
    output = Path(args.output).resolve()
    with tempfile.TemporaryDirectory() as directory:
        page, shot = Path(directory, "report.html"), Path(directory, "shot.png")
        page.write_text(page_html, encoding="utf-8")
        screenshot(page, shot, width, height, args.browser)
        from PIL import Image

        with Image.open(shot) as image:
            page = image.convert("RGB").crop((0, 0, width, height))
            small = page.quantize(256, dither=Image.Dither.NONE)
            output.parent.mkdir(parents=True, exist_ok=True)
            small.save(output, optimize=True)
    print(f"{output}: {output.stat().st_size:,} bytes, {width}x{height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
