"""rcc-sim: an agent-based model of England's children's care placements (see README.md).

The Python API, for notebooks and scripts - the same configs and results as the commands:

    import rcc_sim

    cfg = rcc_sim.load_config(["world=greater_manchester", "sim.years=1", "policy=pathfinders"])
    ds = rcc_sim.simulate(cfg)                   # one run: an xarray Dataset (as results.nc)
    cmp = rcc_sim.compare(cfg, seeds=[0, 1, 2])  # cfg.policy vs the status quo, paired by seed

Importing the package is cheap: the model and Hydra are imported when first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

# first of all, whether the compiled engine is used (rcc_sim.engine.compiled.guard): the shared
# vocabulary (rcc_sim.vocab), which every module imports, is one of its modules
import rcc_sim.engine  # noqa: F401

if TYPE_CHECKING:
    import xarray as xr

    from rcc_sim.config import Config

__all__ = ["ConfigError", "compare", "load_config", "simulate"]


def load_config(overrides: Sequence[str] = ()) -> Config:
    """The validated config that ``rcc-sim <overrides>`` runs: composed by Hydra from the same
    ``configs/`` directory (e.g. ``["world=greater_manchester", "sim.years=2", "seed=3"]``).

    Raises :class:`rcc_sim.config.ConfigError` naming the key when an override or value is bad.
    Works inside a running Hydra app too: Hydra's global state is put back as it was."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from hydra.initialize import get_gh_backup, restore_gh_from_backup
    from omegaconf.errors import OmegaConfBaseException

    from rcc_sim.cli import CONFIG_DIR
    from rcc_sim.config import ConfigError, register_configs, to_object

    if isinstance(overrides, str):  # one override given as a string
        overrides = [overrides]
    register_configs()
    saved = get_gh_backup()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            cfg = compose(config_name="config", overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_override_message(exc)) from None
    finally:
        restore_gh_from_backup(saved)
    return to_object(cfg)


def _override_message(exc: Exception) -> str:
    """Hydra's composition error as one line naming the config key at fault."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    cause = exc.__cause__
    key = getattr(cause, "full_key", None) or getattr(exc, "full_key", None)
    if key:
        from rcc_sim.config import renamed_message

        renamed = renamed_message(key)
        if renamed:
            return renamed
        why = str(cause).strip().splitlines()[0] if cause is not None and str(cause).strip() else first
        return f"config key '{key}': {why} ({first.rstrip('.')})"
    return f"config override error: {first}"


def compare(cfg: Config, seeds: Sequence[int] = (0, 1), jobs: int = 1) -> xr.Dataset:
    """``cfg.policy`` against the status quo on the same ``seeds`` (common random numbers): the
    comparison ``rcc-sim-compare`` writes to comparison.nc - for each outcome and area, the levels
    under both, the mean difference with its 95% t-interval and the difference per seed."""
    from rcc_sim.studies.compare import paired

    return paired(cfg, list(seeds), jobs=jobs)


def __getattr__(name: str) -> Any:
    """``simulate`` (:func:`rcc_sim.run.simulate`) and ``ConfigError``, imported when first used."""
    if name == "simulate":
        from rcc_sim.run import simulate

        return simulate
    if name == "ConfigError":
        from rcc_sim.config import ConfigError

        return ConfigError
    raise AttributeError(f"module 'rcc_sim' has no attribute {name!r}")
