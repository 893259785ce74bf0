"""Inputs and draws: the config keys with a range, and the sample of their values."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rcc_sim.config import CALIBRATED, Config, ConfigError, FreeParameter, PolicyConfig

TEMPLATE = "policy.rollout.template."
SAMPLERS = ("sobol", "latin")

Log = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# Inputs and draws
# --------------------------------------------------------------------------------------------
_RANGE = re.compile(r"\(range\s+(-?[\d.,]+)\s*(m?)\s*(?:-|to)\s*(-?[\d.,]+)\s*(m?)")


def assumption_range(key: str) -> tuple[float, float] | None:
    """The plausible range written in an ASSUMPTION parameter's source, e.g. "(range 0-0.10)",
    "(range 1-5m)", "(range -0.5 to 1)"; None if its source gives none."""
    from rcc_sim.config import _param_meta

    m = _RANGE.search(str(_param_meta(key).get("source", "")))
    if m is None:
        return None
    a, ma, b, mb = m.groups()
    mult = 1e6 if (ma or mb) else 1.0
    return float(a.replace(",", "")) * mult, float(b.replace(",", "")) * mult


def inputs(cfg: Config) -> list[FreeParameter]:
    """The calibrated parameters with their plausible ranges (if ``use_calibrated_ranges``), then
    ``psa.parameters``."""
    study = cfg.psa
    if study is None:
        raise ConfigError("no 'psa' section: run with +experiment=rollout_psa")
    params: list[FreeParameter] = []
    if study.use_calibrated_ranges:
        for key, r in CALIBRATED.get("ranges", {}).items():
            note = "calibrated: plausible range from the fit"
            params.append(
                FreeParameter(key=key, lo=float(r["lo"]), hi=float(r["hi"]), scale=bool(r.get("scale")), note=note)
            )
    seen = {p.key for p in params}
    for p in study.parameters:
        if p.key in seen:
            raise ConfigError(f"config key 'psa.parameters': '{p.key}' is listed twice (or is also calibrated)")
        seen.add(p.key)
        params.append(p)
    if not params:
        raise ConfigError("config key 'psa.parameters': nothing to draw (no calibrated ranges either)")
    return params


def is_calibrated(p: FreeParameter) -> bool:
    return p.key in CALIBRATED.get("ranges", {})


def groups(cfg: Config, params: list[FreeParameter]) -> dict[str, list[str]]:
    """``psa.groups`` resolved to input keys (patterns matched with fnmatch); a group matching no
    input is refused."""
    keys = [p.key for p in params]
    out: dict[str, list[str]] = {}
    for name, patterns in (cfg.psa.groups if cfg.psa else {}).items():
        members = [k for k in keys if any(fnmatch.fnmatchcase(k, pat) for pat in patterns)]
        if not members:
            raise ConfigError(f"config key 'psa.groups.{name}': {list(patterns)} matches no input")
        out[str(name)] = members
    return out


def sample(params: list[FreeParameter], n: int, sampler: str = "sobol", seed: int = 0) -> np.ndarray:
    """The draws, shape (n, len(params)), each input uniform within [lo, hi] (log-uniform where
    ``log``). Sobol: scrambled (scipy.stats.qmc), the first rows stay the same when n grows."""
    if sampler == "latin":
        from rcc_sim.studies.sensitivity import draw

        return draw(params, n, seed)
    if sampler != "sobol":
        raise ConfigError(f"config key 'psa.sampler' = {sampler!r}: one of {', '.join(SAMPLERS)}")
    from scipy.stats import qmc

    with warnings.catch_warnings():  # n need not be a power of 2 here: the sequence's prefix is used
        warnings.simplefilter("ignore", UserWarning)
        u = qmc.Sobol(len(params), scramble=True, seed=seed).random(n)
    x = np.empty_like(u)
    for j, p in enumerate(params):
        if p.log:
            x[:, j] = np.exp(np.log(p.lo) + u[:, j] * (np.log(p.hi) - np.log(p.lo)))
        else:
            x[:, j] = p.lo + u[:, j] * (p.hi - p.lo)
    return x


def with_inputs(cfg: Config, params: list[FreeParameter], values: dict[str, float]) -> Config:
    """``cfg`` with each input set (calibrated ``scale`` ones as multipliers; integers rounded); a
    ``policy.rollout.template`` lever also in every RCC of the policy when ``psa.every_rcc``."""
    from rcc_sim.studies.calibration import apply

    out = apply(cfg, [p for p in params if p.key in values], values)
    if cfg.psa is not None and cfg.psa.every_rcc:
        for p in params:
            if p.key.startswith(TEMPLATE) and p.key in values:
                name = p.key[len(TEMPLATE) :]
                for rcc in out.policy.rccs.values():
                    cur = getattr(rcc, name)
                    setattr(rcc, name, int(round(values[p.key])) if isinstance(cur, int) else float(values[p.key]))
        if out.policy.rccs:
            from rcc_sim.config import validate

            validate(out)
    return out


def base_of(cfg: Config) -> Config:
    """The same config under the status quo (drawn model parameters and seed kept)."""
    return dataclasses.replace(cfg, policy=PolicyConfig())


def designs_study(study) -> Path | None:
    """``psa.designs``: the evaluation study whose design table the decision page shows, checked."""
    if not study.designs:
        return None
    from rcc_sim.reporting.decision import DESIGN_FILE, find_design_summary

    path = Path(study.designs)
    if find_design_summary(path) is None:
        raise ConfigError(
            f"config key 'psa.designs' = {study.designs!r}: holds no {DESIGN_FILE} (nor evaluation/{DESIGN_FILE}); "
            "give a study that rcc-sim-evaluate has written, or leave it empty"
        )
    return path


def short_name(key: str) -> str:
    return key[len(TEMPLATE) :] if key.startswith(TEMPLATE) else key
