"""Build script: everything is declared in pyproject.toml except the compiled engine.

The engine modules listed in ``rcc_sim/engine/compiled.py`` (``MODULES``) are compiled with mypyc
into C extensions, unless ``RCC_SIM_COMPILE=0`` is set or no C compiler is found; then the
package installs as pure Python, which gives the same results more slowly. The source hashes of
the compiled modules are recorded (``rcc_sim/engine/native_stamp.json``) so that an edited module
is never shadowed by a stale compiled copy (``rcc_sim.engine.compiled.guard``). On Linux the small
C extension ``rcc_sim/engine/_hugepages.c`` is built with them (Python's objects on huge pages:
``rcc_sim/engine/memory.py``).
"""

import importlib.util
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent


def _compiled():
    spec = importlib.util.spec_from_file_location("_rcc_compiled", HERE / "rcc_sim" / "engine" / "compiled.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ext_modules():
    if os.environ.get("RCC_SIM_COMPILE", "1") == "0":
        return []
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        print(f"rcc-sim: no C compiler ({cc}): installing the pure-Python engine", file=sys.stderr)
        return []
    from mypyc.build import mypycify

    compiled = _compiled()
    paths = [str(compiled.source(m).relative_to(HERE)) for m in compiled.MODULES]
    exts = mypycify(paths, group_name=compiled.GROUP, opt_level="3")
    compiled.write_stamp()
    if sys.platform.startswith("linux"):
        exts.append(Extension("rcc_sim.engine._hugepages", ["rcc_sim/engine/_hugepages.c"]))
    return exts


setup(ext_modules=ext_modules())
