"""Writing files so that no reader ever sees half of one.

Every output (results, configs, manifests, status files, tables, reports) is written to a hidden
temporary file in its own directory, ``.<name>.<random>.tmp``, and renamed into place, which is
atomic on POSIX: a run killed mid-write leaves its ``*.tmp`` behind (``rcc-sim-gather`` lists it),
never a half-written file under the real name.

    atomic_write_text(out_dir / "config.yaml", text)
    atomic_write(out_dir / "results.nc", lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf"))
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def publish(tmp: str | Path, path: str | Path) -> None:
    """Move a finished temporary file into place (readable as the umask allows, unlike mkstemp's 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` to write a temporary file next to ``path``, then rename it to ``path``.
    If ``write`` raises, the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        publish(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
