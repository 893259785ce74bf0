"""The report as a person sees it: opened offline in a real headless browser (Debian's chromium,
driven by selenium through /usr/bin/chromedriver; the ``browser`` fixture is in conftest.py).

Checks that every image loads, the console has no errors, nothing is fetched from the network,
the page fits its width, and that it prints to PDF. Keeps a full-page screenshot and the PDF in
``tests/artifacts/`` (git-ignored) for a person to look at. Skips, saying why, when chromium is
not installed - except under CI (``CI`` set), where a missing browser is a failure.
"""

from __future__ import annotations

import base64

import pytest
from conftest import ARTIFACTS, open_page
from test_report import make_study

from rcc_sim.reporting import report


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    root, _ = make_study(tmp_path_factory.mktemp("browser_study"))
    path = report.write_report(root)
    return open_page(browser, path), path


def test_every_image_loads(page):
    driver, _ = page
    imgs = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])"
    )
    assert len(imgs) >= 8
    for complete, w, h, alt in imgs:
        assert complete and w > 0 and h > 0, alt
        assert alt, "an image without alt text"


def test_no_console_errors_and_no_network(page):
    driver, _path = page
    logs = driver.get_log("browser")
    assert [entry for entry in logs if entry["level"] in ("SEVERE", "WARNING")] == []
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [u for u in urls if not u.startswith(("data:", "file:"))] == []


def test_page_fits_its_width_and_reads_as_a_report(page):
    driver, _ = page
    assert driver.title.startswith("Status quo and pathfinders in Greater Manchester")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the window"
    h1 = driver.execute_script("return document.querySelector('h1').innerText")
    assert "pathfinders" in h1.lower()
    caveat = driver.execute_script("return document.querySelector('.caveat').innerText")
    assert "not forecasts" in caveat


def test_screenshot_and_pdf_are_kept(page):
    driver, _ = page
    ARTIFACTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": 1000, "height": height, "scale": 1},
        },
    )
    png = base64.b64decode(shot["data"])
    (ARTIFACTS / "report.png").write_bytes(png)
    import io

    from PIL import Image

    im = Image.open(io.BytesIO(png)).convert("L")
    assert im.size == (1000, height) and height > 5000
    assert im.getextrema()[0] < 60  # dark text and lines on the page, not a blank capture
    pdf = base64.b64decode(driver.print_page())
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 5


# ---------------------------------------------------------------------------------------------
# The validation page (rcc-sim-validate), opened the same way
# ---------------------------------------------------------------------------------------------
VALIDATION_HEADINGS = (
    "In brief",
    "What the model does not reproduce",
    "Base-year fit",
    "Every measure at a glance",
    "Each measure over time",
    "Per-LA fit",
    "Trend bands",
    "One-year-ahead forecasts",
    "Runs and sources",
)


@pytest.fixture(scope="module")
def validation_page(browser, tmp_path_factory):
    from rcc_sim.studies import validate

    out = tmp_path_factory.mktemp("browser_validation")
    dirs = validate.run_standard(out, "greater_manchester", 1, 1, progress=False, log=lambda _: None)
    from rcc_sim.reporting.validation import Inputs, write_page

    path = write_page(Inputs(validate.combine(validate.load_runs(dirs))), out / validate.PAGE_FILE)
    return open_page(browser, path), path


def test_validation_page_renders_without_errors_and_fetches_nothing(validation_page):
    driver, _ = validation_page
    assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [u for u in urls if not u.startswith(("data:", "file:"))] == []


def test_validation_page_shows_its_headings_and_images(validation_page):
    from rcc_sim.studies.validate import LA_MEASURES, MEASURES

    driver, _ = validation_page
    assert driver.title.startswith("How well rcc-sim reproduces the published statistics")
    headings = driver.execute_script("return Array.from(document.querySelectorAll('h2')).map(h => h.innerText)")
    assert list(headings) == list(VALIDATION_HEADINGS)
    imgs = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt, "
        "i.getBoundingClientRect().width])"
    )
    assert len(imgs) == len(MEASURES) + len(LA_MEASURES)
    for complete, w, h, alt, shown in imgs:
        assert complete and w > 0 and h > 0 and shown > 200, alt
        assert alt
    # two charts side by side: the first two figures of a group share a row
    tops = driver.execute_script(
        "return Array.from(document.querySelectorAll('#over-time .grid figure')).slice(0, 2)"
        ".map(f => f.getBoundingClientRect().top)"
    )
    assert len(tops) == 2 and tops[0] == tops[1]
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the window"
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "validation.png").write_bytes(base64.b64decode(shot["data"]))
    pdf = base64.b64decode(driver.print_page())
    (ARTIFACTS / "validation.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 5
