"""Progress on a terminal for long work: a run, a comparison, a sweep.

``output.progress`` decides whether a bar is drawn (on stderr): ``auto`` (the default) only when
stderr is a terminal and the ``CI`` environment variable is unset, so logs, CI and pipes stay
quiet; ``true`` or ``false`` force it.

* A run (``rcc-sim``) or a comparison (``rcc-sim-compare``, seeds x 2 policies) draws one bar over
  the weeks simulated, fed by the model after each week (``CareSystemModel.run(progress=...)``):

      rcc-sim  25%|######      | 13/52 weeks, simulated 2024-06-30 |  4.19 weeks/s | 00:09 left

* A sweep (``rcc-sim -m``) draws one bar over its jobs in the parent process
  (:class:`SweepProgress`, a Hydra callback registered in ``configs/config.yaml``); its jobs draw
  none, whichever launcher runs them.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from hydra.experimental.callback import Callback

BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} weeks{postfix} | {rate_fmt} | {remaining} left"
SWEEP_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} runs | {elapsed} so far, {remaining} left"
SWEEP_MARKER = ".rcc-sim-progress"  # in the sweep directory while it runs: one byte per finished job


def enabled(setting: bool | str, stream: TextIO | None = None) -> bool:
    """Whether to draw a bar for ``output.progress`` = ``setting``: True/False as given; ``auto``
    only when ``stream`` (default stderr) is a terminal and ``CI`` is not set."""
    if isinstance(setting, bool):
        return setting
    if str(setting).lower() in ("true", "false"):
        return str(setting).lower() == "true"
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("CI")


def simulated_date(start_year: int, model_day: float) -> str:
    """The date ``model_day`` days after the base date (31 March of ``start_year``)."""
    return (dt.date(start_year, 3, 31) + dt.timedelta(days=int(model_day))).isoformat()


def _postfix(start_year: int, model_day: float, runs_done: int, runs: int) -> str:
    done = f"{runs_done}/{runs} runs, " if runs > 1 else ""
    return f"{done}simulated {simulated_date(start_year, model_day)}"


def format_progress(
    weeks_done: int,
    n_weeks: int,
    model_day: float,
    start_year: int,
    elapsed: float,
    desc: str = "rcc-sim",
    runs_done: int = 0,
    runs: int = 1,
    ncols: int | None = None,
) -> str:
    """The line a :class:`WeekProgress` bar shows: weeks done of all, the simulated date (and runs
    done, for several runs), weeks a second and the time left; ``ncols``: the terminal's width
    (None: a 10-character bar, nothing cut)."""
    from tqdm import tqdm

    return tqdm.format_meter(
        weeks_done,
        n_weeks,
        elapsed,
        ncols=ncols,
        prefix=desc,
        unit=" weeks",
        bar_format=BAR_FORMAT,
        postfix=_postfix(start_year, model_day, runs_done, runs),
    )


class WeekProgress:
    """A bar over the weeks of ``runs`` runs of the same length.

    Call it as the model's callback for one run, ``bar(weeks_done, n_weeks, model_day)``, or
    :meth:`week` with the run's number for several (in any order, e.g. from parallel workers).
    Use it as a context manager, or :meth:`close` it, to end the bar."""

    def __init__(self, start_year: int, desc: str = "rcc-sim", runs: int = 1, file: TextIO | None = None):
        self.start_year, self.desc, self.runs, self.file = start_year, desc, runs, file
        self.weeks: dict[int, int] = {}  # run -> weeks done
        self.bar: Any = None

    def __call__(self, weeks_done: int, n_weeks: int, model_day: float) -> None:
        self.week(0, weeks_done, n_weeks, model_day)

    def week(self, run: int, weeks_done: int, n_weeks: int, model_day: float) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=n_weeks * self.runs,
                desc=self.desc,
                unit=" weeks",
                bar_format=BAR_FORMAT,
                file=sys.stderr if self.file is None else self.file,
                dynamic_ncols=True,
                mininterval=0.5,
            )
        self.weeks[run] = weeks_done
        done = sum(w >= n_weeks for w in self.weeks.values())
        self.bar.set_postfix_str(_postfix(self.start_year, model_day, done, self.runs), refresh=False)
        self.bar.update(sum(self.weeks.values()) - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> WeekProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def count_jobs(config: Any) -> int | None:
    """How many jobs the sweep of ``config`` (Hydra's, with its ``hydra`` node) launches, as the
    basic sweeper splits them; None if that cannot be worked out (the bar then has no total)."""
    try:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser

        params = config.hydra.sweeper.get("params") or {}
        overrides = [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)
        batches = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(overrides), None)
        return sum(len(b) for b in batches)
    except Exception:  # another sweeper, or a Hydra that does it differently: no total
        return None


class SweepProgress(Callback):
    """One bar over a sweep's jobs, in the process that launched them.

    Jobs may run in this process (basic launcher) or in others (joblib workers, SLURM tasks), so
    each finished job appends a byte to ``<sweep dir>/.rcc-sim-progress`` (:meth:`on_job_end`,
    wherever it runs) and a thread here counts them. The file is removed when the sweep ends."""

    def __init__(self) -> None:
        self.marker: str | None = None  # set in the launching process, pickled to the jobs
        self._bar: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __getstate__(self) -> dict:  # the jobs need only where to report
        return {"marker": self.marker}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        self.marker = state["marker"]

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        if not enabled(config.get("output", {}).get("progress", "auto")):
            return
        from tqdm import tqdm

        sweep_dir = Path(str(config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        marker = (sweep_dir / SWEEP_MARKER).resolve()
        marker.write_bytes(b"")
        self.marker = str(marker)
        self._bar = tqdm(
            total=count_jobs(config),
            desc="rcc-sim sweep",
            unit="run",
            bar_format=SWEEP_FORMAT,
            dynamic_ncols=True,
            smoothing=0,  # time left from the average pace so far: jobs finish in bursts
        )
        self._thread = threading.Thread(target=self._watch, name="rcc-sim-sweep-progress", daemon=True)
        self._thread.start()
        atexit.register(self._finish)  # a sweep that fails ends without on_multirun_end

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        if self.marker is not None:
            with open(self.marker, "ab") as fh:
                fh.write(b".")

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        self._finish()

    def _done(self) -> int:
        try:
            return os.stat(self.marker).st_size
        except (OSError, TypeError):
            return self._bar.n

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            self._bar.update(self._done() - self._bar.n)

    def _finish(self) -> None:
        if self._bar is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._bar.update(self._done() - self._bar.n)
        self._bar.close()
        self._bar = None
        if self.marker is not None:
            Path(self.marker).unlink(missing_ok=True)
            self.marker = None
