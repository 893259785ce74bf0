"""One job of ``rcc-sim``: validate its config, claim its run directory, or refuse cleanly.

Hydra creates a run directory (with ``.hydra/`` and a log file) before the command sees its
config. This module decides what happens next, before any work is done:

* **A bad config in a single run** (:func:`refuse`): one message naming the key (or data file),
  exit code 2, and the directory Hydra just made is removed again (only if it holds nothing but
  what Hydra wrote), so no run directory is left behind.
* **A bad config in one job of a sweep** (:func:`claim_job`): the job is recorded as failed in
  its ``status.json`` with the message, and :class:`InvalidJobError` is raised, which Hydra's
  launchers count as that job failing: the other jobs run, and the sweep exits non-zero at the end.
* **A run directory another live process is working in**: each job holds an exclusive lock
  (``fcntl.flock`` on ``<run dir>/.rcc-sim.lock``) from before it reads the directory's state until
  its results are written. A second copy of a sweep skips the jobs that are locked, so two copies
  started together share the jobs instead of both running each one. The operating system drops
  the lock when its process dies, so a killed run never blocks a resume.
* **Leftovers of a killed run**: once a job holds the lock, any ``*.tmp`` file in its directory
  is a half-written file of a process that is gone, and is removed.
* **Orphaned workers**: a job running in a worker process of the joblib launcher exits when its
  parent (the ``rcc-sim -m`` process) dies, instead of running on unseen (:func:`watch_parent`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import multiprocessing
import os
import shutil
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

from hydra.errors import CompactHydraException

from rcc_sim.config import Config, ConfigError, to_object
from rcc_sim.data import DataError

LOCK_FILE = ".rcc-sim.lock"
PARENT_POLL_SECONDS = 1.0


class InvalidJobError(ConfigError, CompactHydraException):
    """A sweep job's config was refused. Hydra prints only its message (no traceback) when it
    reports the sweep's first failed job at the end."""


class RunDirLocked(RuntimeError):
    """Another live process holds the run directory's lock. The message says which."""


# --------------------------------------------------------------------------------------------
# The run directory lock
# --------------------------------------------------------------------------------------------
class RunDirLock:
    """An exclusive, non-blocking lock on a run directory (``<dir>/.rcc-sim.lock``).

    Use :meth:`acquire` (raises :class:`RunDirLocked` naming the holder) and :meth:`release`, or
    ``with RunDirLock(d):``. The lock file records the holder's pid, host and start time."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_FILE
        self._fh: IO[str] | None = None

    def acquire(self) -> RunDirLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - held open for as long as the lock is held
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise RunDirLocked(
                f"{self.path.parent} is in use by another rcc-sim ({holder or 'holder unknown'})"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def __enter__(self) -> RunDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def clear_stale_tmp(run_dir: str | Path) -> list[str]:
    """Remove the ``*.tmp`` files of a run directory whose lock this process holds: they are
    half-written files of a killed process. Returns their names."""
    removed = []
    for p in sorted(Path(run_dir).glob("*.tmp")):
        if p.is_file():
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
            removed.append(p.name)
    return removed


# --------------------------------------------------------------------------------------------
# Orphaned workers
# --------------------------------------------------------------------------------------------
_watching = False


def watch_parent(poll: float = PARENT_POLL_SECONDS) -> bool:
    """In a worker process (joblib/loky, multiprocessing), start a daemon thread that ends the
    process when its parent dies (the worker is then re-parented, so ``os.getppid()`` changes).
    Its run is left with state 'running' and a dead pid: incomplete, and re-run on resume.
    Does nothing in a main process (returns False), where the parent is a shell or a scheduler."""
    global _watching
    if multiprocessing.parent_process() is None:
        return False
    if _watching:
        return True
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent:
                print(
                    f"rcc-sim: worker {os.getpid()}: its parent process {parent} has gone; stopping",
                    file=sys.stderr,
                    flush=True,
                )
                os._exit(3)

    threading.Thread(target=watch, name="rcc-sim-parent-watch", daemon=True).start()
    _watching = True
    return True


# --------------------------------------------------------------------------------------------
# Refusing a bad config
# --------------------------------------------------------------------------------------------
def _hydra() -> Any:
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get() if HydraConfig.initialized() else None


def remove_hydra_run_dir(run_dir: str | Path) -> bool:
    """Remove a run directory that holds only what Hydra wrote when it started this command
    (``.hydra/``, the job's log file, our lock file); True if removed. A directory holding
    anything else (an earlier run's results) is left as it is."""
    run_dir = Path(run_dir)
    hydra_cfg = _hydra()
    if hydra_cfg is None or not run_dir.is_dir():
        return False
    ours = {LOCK_FILE, f"{hydra_cfg.job.name}.log"}
    if hydra_cfg.output_subdir:
        ours.add(str(hydra_cfg.output_subdir))
    if any(p.name not in ours for p in run_dir.iterdir()):
        return False
    for p in run_dir.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
    with contextlib.suppress(OSError):
        run_dir.rmdir()
    return not run_dir.exists()


def refuse(prog: str, exc: Exception, run_dir: str | Path | None = None) -> NoReturn:
    """A single run's config (or data) was refused: print one message, remove the run directory
    Hydra made for it (see :func:`remove_hydra_run_dir`) and exit with code 2."""
    print(f"{prog}: {exc}", file=sys.stderr)
    hydra_cfg = _hydra()
    if run_dir is None and hydra_cfg is not None:
        run_dir = hydra_cfg.runtime.output_dir
    if run_dir is not None:
        remove_hydra_run_dir(run_dir)
    sys.exit(2)


def validated_or_exit(cfg: Any, prog: str) -> tuple[Config, Path]:
    """The validated config and the run directory (created); a bad config or data file exits with
    one message (code 2) and leaves no run directory (:func:`refuse`)."""
    hydra_cfg = _hydra()
    out_dir = Path(hydra_cfg.runtime.output_dir) if hydra_cfg is not None else Path.cwd()
    try:
        obj = to_object(cfg)
    except (ConfigError, DataError) as exc:
        refuse(prog, exc, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return obj, out_dir


def _best_effort(cfg: Any, key: str) -> Any:
    from omegaconf import OmegaConf

    with contextlib.suppress(Exception):
        return OmegaConf.select(cfg, key) if OmegaConf.is_config(cfg) else None
    return None


def record_invalid(run_dir: str | Path, cfg: Any, overrides: list[str], exc: Exception) -> None:
    """Record in ``status.json`` that the job's config was refused (state failed, with the message)."""
    from rcc_sim.run import git_state
    from rcc_sim.studies.study import _now, _write_status

    seed = _best_effort(cfg, "seed")
    now = _now()
    status = {
        "state": "failed",
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": now,
        "finished": now,
        "wall_seconds": 0.0,
        "policy": _best_effort(cfg, "policy.name"),
        "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        "overrides": list(overrides),
        "config_sha256": None,
        "git_commit": git_state()["commit"],
        "error": {"type": type(exc).__name__, "message": str(exc), "traceback": None},
    }
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    _write_status(Path(run_dir), status)


# --------------------------------------------------------------------------------------------
# Claiming a job
# --------------------------------------------------------------------------------------------
@dataclass
class Job:
    """A job whose config is valid and whose run directory this process holds (locked).
    Use as a context manager around the run: the lock is released at the end."""

    cfg: Config
    out_dir: Path
    overrides: list[str] = field(default_factory=list)
    lock: RunDirLock | None = None
    cleared_tmp: list[str] = field(default_factory=list)

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def claim_job(cfg: Any, prog: str = "rcc-sim") -> Job | None:
    """Validate a job's config and claim its run directory; None when the job is to be skipped.

    In a single run a bad config exits (code 2, no run directory left: :func:`refuse`), and a run
    directory locked by another process exits with code 2 too. In a sweep (``-m``):

    * a directory locked by another live process: skipped, with a message (that process runs it);
    * a bad config: recorded as failed in the job's ``status.json``; :class:`InvalidJobError` raised;
    * already done with the same config and code (:func:`rcc_sim.studies.study.previous_run`): skipped.

    Stale ``*.tmp`` files are removed once the lock is held."""
    from hydra.types import RunMode

    from rcc_sim.studies.study import previous_run

    hydra_cfg = _hydra()
    if hydra_cfg is None:
        raise RuntimeError("claim_job: not inside a Hydra job")
    out_dir = Path(hydra_cfg.runtime.output_dir)
    sweep = hydra_cfg.mode == RunMode.MULTIRUN
    overrides = [str(o) for o in hydra_cfg.overrides.task]
    if sweep:
        watch_parent()
    lock = RunDirLock(out_dir)
    try:
        lock.acquire()
    except RunDirLocked as exc:
        if sweep:
            print(f"{prog}: skipped {out_dir}: {exc}; it runs this job")
            return None
        print(f"{prog}: {exc}", file=sys.stderr)
        sys.exit(2)
    try:
        try:
            obj = to_object(cfg)
        except (ConfigError, DataError) as exc:
            if not sweep:
                lock.release()
                refuse(prog, exc, out_dir)
            record_invalid(out_dir, cfg, overrides, exc)
            print(f"{prog}: job {out_dir} refused: {exc}", file=sys.stderr)
            raise InvalidJobError(f"{prog}: {exc} (job {out_dir}; recorded in its status.json)") from None
        cleared = clear_stale_tmp(out_dir)
        if cleared:
            print(f"{prog}: removed half-written files of a killed run in {out_dir}: {', '.join(cleared)}")
        if sweep:
            skip, message = previous_run(out_dir, obj)
            if message:
                print(f"{prog}: {message}")
            if skip:
                lock.release()
                return None
    except BaseException:
        lock.release()
        raise
    return Job(obj, out_dir, overrides, lock, cleared)


__all__ = [
    "InvalidJobError",
    "Job",
    "RunDirLock",
    "RunDirLocked",
    "claim_job",
    "clear_stale_tmp",
    "record_invalid",
    "refuse",
    "remove_hydra_run_dir",
    "validated_or_exit",
    "watch_parent",
]
