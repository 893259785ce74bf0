"""Shared helpers for the rcc-sim tests.

Runs are small (a few LAs, well under a year of simulated time) so that the whole suite stays
fast; runs used by several tests live in module-scoped fixtures.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from rcc_sim.config import Config

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "configs"
GM3 = ["E08000001", "E08000002", "E08000003"]  # Bolton, Bury, Manchester


def small_config(years: float = 1.0, seed: int = 0, la_codes: list[str] | None = None, **sections) -> Config:
    """A small test world. ``sections`` are {section: {key: value}} overrides, e.g.
    ``small_config(demand={"entry_rate_scale": 0.0})``."""
    cfg = Config()
    cfg.world.la_codes = list(la_codes or GM3)
    cfg.world.name = "test"
    cfg.sim.years = years
    cfg.sim.spin_up_years = 0  # tests of the mechanics start at the base date (tests/test_spinup.py: the spin-up)
    cfg.seed = seed
    for section, values in sections.items():
        node = getattr(cfg, section)
        for key, value in values.items():
            assert hasattr(node, key), f"no config key {section}.{key}"
            setattr(node, key, value)
    return cfg


def rcc_sim_command(name: str = "rcc-sim") -> list[str]:
    """The installed console script ``name`` (a command the README tells people to run)."""
    search = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    with contextlib.suppress(KeyError):
        search.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    search += os.environ.get("PATH", "").split(os.pathsep)
    exe = shutil.which(name, path=os.pathsep.join(p for p in search if p))
    if exe is None:
        pytest.fail(f"the {name} command is not installed: run `python3 -m pip install -e .`")
    return [exe]


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``rcc-sim`` with ``args`` in a subprocess; capture its output."""
    env = dict(os.environ, HYDRA_FULL_ERROR="0")
    return subprocess.run(
        rcc_sim_command() + list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


# ---------------------------------------------------------------------------------------------
# A real headless browser for the pages' browser tests (Debian's chromium, driven by selenium
# through chromedriver): skips, saying why, when it is not installed - except under CI (``CI``
# set), where a missing browser is a failure. Screenshots and PDFs go to ARTIFACTS (git-ignored).
# ---------------------------------------------------------------------------------------------
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1000,1000",
)


def _need(what: str, ok: bool) -> None:
    if ok:
        return
    msg = f"{what} is not installed (apt-get install -y chromium chromium-driver; pip install selenium)"
    if os.environ.get("CI"):
        pytest.fail(f"CI: {msg}")
    pytest.skip(msg)


@pytest.fixture(scope="module")
def browser():
    _need("chromium", CHROMIUM is not None)
    _need("chromedriver", CHROMEDRIVER is not None)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _need("selenium", False)
    profile = tempfile.mkdtemp(prefix="rcc-sim-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS + (f"--user-data-dir={profile}",):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path: Path):
    """Open the page ``path`` in the browser with an empty console log; the driver."""
    driver.get_log("browser")  # what earlier pages logged
    driver.get(path.as_uri())
    driver.execute_script("return document.readyState")
    return driver
