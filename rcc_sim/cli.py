"""The ``rcc-sim`` command: compose the config with Hydra, validate it, run, write the results.

    rcc-sim                                   # default study: England, status quo
    rcc-sim world=greater_manchester sim.years=5 seed=3
    rcc-sim -m seed=0,1,2                     # a sweep (one run directory per job)
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from .config import ConfigError, register_configs, to_object
from .data import DataError

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")

register_configs()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    from .run import run_and_write

    try:
        obj = to_object(cfg)
    except (ConfigError, DataError) as exc:
        print(f"rcc-sim: {exc}", file=sys.stderr)
        sys.exit(2)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    ds, path = run_and_write(obj, out_dir)
    cic = float(ds["children_in_care"].isel(time=-1).sum())
    print(f"rcc-sim: {obj.world.name} / {obj.policy.name}, seed {obj.seed}, {obj.sim.years:g} years: "
          f"{cic:,.0f} children in care at {str(ds.time.values[-1])[:10]}")
    print(f"rcc-sim: results written to {path}")


if __name__ == "__main__":
    main()
