"""Probabilistic sensitivity analysis: which parameters move the key outcomes most?

    rcc-sim-sensitivity +experiment=sensitivity            # outputs/sensitivity/<study>/

Parameter sets are drawn by Latin hypercube (SALib) from

* the plausible range of every calibrated parameter (``ranges`` in rcc_sim/data/calibrated.yaml,
  the chi-square profile-loss region of the calibration study), and
* the ranges given in the experiment file for parameters without a published source
  (ASSUMPTION in rcc_sim/config.py),

each set is run once (seed = the sample's number, so parameter and stochastic uncertainty are
both in the spread), and the parameters are ranked for each outcome by SALib's RBD-FAST
first-order index (the share of the outcome's variance explained by that parameter alone), with
Borgonovo's moment-independent delta and Spearman's rank correlation beside it. Each sample's
outcomes are written to ``samples/<n>.json`` as soon as it finishes, so a killed study resumes
where it stopped; a sample that fails is recorded and left out of the indices.
"""

from __future__ import annotations

import contextlib
import io
import json
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from rcc_sim.config import CALIBRATED, Config, ConfigError, FreeParameter
from rcc_sim.files import atomic_write, atomic_write_text

# Outcomes (England) written for every sample: name -> (unit, label)
KEY_OUTCOMES = {
    "children_in_care_end": ("children", "Children in care at the end"),
    "spend_last_year_gbp_m": ("GBP m", "Placement spend in the last year"),
    "share_family_based": ("share", "In family-based care (last year)"),
    "share_residential": ("share", "In children's homes or secure (last year)"),
    "share_over_20_miles": ("share", "Placed more than 20 miles from home (last year)"),
    "moves_per_child": ("moves per child-year", "Placement moves per child (last year)"),
    "waiting": ("children", "Children waiting, mean over the last year"),
    "carers_end": ("households", "Approved fostering households at the end"),
}


def free_parameters(cfg: Config) -> list[FreeParameter]:
    """The calibrated parameters with their plausible ranges, then the study's own parameters."""
    study = cfg.sensitivity
    params: list[FreeParameter] = []
    if study is None or study.use_calibrated_ranges:
        for key, r in CALIBRATED.get("ranges", {}).items():
            params.append(
                FreeParameter(
                    key=key,
                    lo=float(r["lo"]),
                    hi=float(r["hi"]),
                    scale=bool(r.get("scale")),
                    note="calibrated: plausible range from the fit",
                )
            )
    seen = {p.key for p in params}
    for p in study.parameters if study is not None else []:
        if p.key in seen:
            raise ConfigError(f"config key 'sensitivity.parameters': '{p.key}' is also a calibrated parameter")
        params.append(p)
    if not params:
        raise ConfigError("config key 'sensitivity.parameters': nothing to vary (no calibrated ranges either)")
    return params


def draw(params: list[FreeParameter], n: int, seed: int) -> np.ndarray:
    """Latin hypercube sample, shape (n, len(params)); log-uniform where ``log``."""
    from SALib.sample import latin

    problem = {
        "num_vars": len(params),
        "names": [p.key for p in params],
        "bounds": [[np.log(p.lo), np.log(p.hi)] if p.log else [p.lo, p.hi] for p in params],
    }
    x = latin.sample(problem, n, seed=seed)
    for j, p in enumerate(params):
        if p.log:
            x[:, j] = np.exp(x[:, j])
    return x


def key_outcomes(ds) -> dict[str, float]:
    """England values of :data:`KEY_OUTCOMES` from one run's Dataset."""
    last = ds.isel(time=slice(-52, None)).sum("la")
    placements = last["placements"].sum("time")
    cic_weeks = float(last["children_in_care"].sum("time"))
    residential = float(placements.sel(placement_type=["la_home", "private_home", "secure"]).sum())
    return {
        "children_in_care_end": float(ds["children_in_care"].isel(time=-1).sum()),
        "spend_last_year_gbp_m": float(last["spend"].sum()) / 1e6,
        "share_family_based": float(last["family_based"].sum()) / cic_weeks,
        "share_residential": residential / cic_weeks,
        "share_over_20_miles": float(last["over_20_miles"].sum() / last["located"].sum()),
        "moves_per_child": float(last["moves"].sum()) / (cic_weeks / len(last.time)),
        "waiting": float(last["waiting"].mean("time")),
        "carers_end": float(ds["carers"].isel(time=-1).sum()),
    }


def _run_sample(args) -> dict[str, Any]:
    from rcc_sim.run import simulate
    from rcc_sim.studies.calibration import apply

    cfg, params, i, row, path = args
    out: dict[str, Any] = {"sample": i, "params": {p.key: float(v) for p, v in zip(params, row)}}
    try:
        run_cfg = apply(cfg, params, out["params"])
        run_cfg.seed = int(cfg.seed) + i
        out["outcomes"] = key_outcomes(simulate(run_cfg))
        out["status"] = "done"
    except Exception as exc:  # recorded, never kills the study
        out.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    atomic_write_text(path, json.dumps(out, indent=1))
    return out


def run_sensitivity(cfg: Config, out_dir: Path, log=print) -> dict[str, Any]:
    study = cfg.sensitivity
    params = free_parameters(cfg)
    out_dir = Path(out_dir)
    (out_dir / "samples").mkdir(parents=True, exist_ok=True)
    x = draw(params, study.n_samples, study.sampler_seed)
    todo = []
    for i, row in enumerate(x):
        path = out_dir / "samples" / f"{i:04d}.json"
        if path.exists() and json.loads(path.read_text()).get("status") == "done":
            continue
        todo.append((cfg, params, i, row, path))
    log(
        f"sensitivity: {len(params)} parameters, {study.n_samples} samples, {study.n_samples - len(todo)} done, "
        f"{study.workers} workers"
    )
    if todo:
        if study.workers > 1:
            import multiprocessing as mp

            with ProcessPoolExecutor(study.workers, mp_context=mp.get_context("fork")) as ex:
                for r in ex.map(_run_sample, todo):
                    log(f"  sample {r['sample']}: {r['status']}")
        else:
            for a in todo:
                log(f"  sample {a[2]}: {_run_sample(a)['status']}")
    results = [json.loads((out_dir / "samples" / f"{i:04d}.json").read_text()) for i in range(len(x))]
    ok = [r for r in results if r["status"] == "done"]
    failed = [r for r in results if r["status"] != "done"]
    if len(ok) < 8:
        raise RuntimeError(f"sensitivity: only {len(ok)} samples finished; see {out_dir / 'samples'}")
    X = np.array([[r["params"][p.key] for p in params] for r in ok])
    problem = {"num_vars": len(params), "names": [p.key for p in params], "bounds": [[p.lo, p.hi] for p in params]}
    indices: dict[str, Any] = {}
    for name in KEY_OUTCOMES:
        y = np.array([r["outcomes"][name] for r in ok])
        entry = {
            "mean": float(y.mean()),
            "sd": float(y.std(ddof=1)),
            "q05": float(np.quantile(y, 0.05)),
            "q95": float(np.quantile(y, 0.95)),
            "parameters": {},
        }
        if y.std() == 0:
            indices[name] = entry
            continue
        entry["parameters"] = parameter_indices(problem, X, y, study.sampler_seed)
        indices[name] = entry
    doc = {
        "n_samples": len(x),
        "n_done": len(ok),
        "failed": [{"sample": r["sample"], "error": r.get("error")} for r in failed],
        "parameters": [{"key": p.key, "lo": p.lo, "hi": p.hi, "scale": p.scale, "note": p.note} for p in params],
        "world": cfg.world.name,
        "policy": cfg.policy.name,
        "years": cfg.sim.years,
        "start_year": cfg.sim.start_year,
        "indices": indices,
    }
    atomic_write_text(out_dir / "sensitivity.json", json.dumps(doc, indent=1))
    text = ranking_table(doc)
    (out_dir / "ranking.txt").write_text(text + "\n")
    _plot(doc, out_dir / "sensitivity.png")
    log(text)
    return doc


def parameter_indices(problem: dict[str, Any], X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, dict]:
    """Per parameter: RBD-FAST S1 (with its bootstrap error), Borgonovo's delta (bias-balanced,
    from 50 samples on) and Spearman's rank correlation of one outcome ``y`` with ``X``'s columns."""
    from SALib.analyze import delta, rbd_fast
    from scipy import stats

    s1 = rbd_fast.analyze(problem, X, y, M=4, seed=seed)
    nan = [np.nan] * problem["num_vars"]
    d = {"delta": nan, "delta_conf": nan}
    if len(y) >= 50:  # Borgonovo's delta needs enough samples per conditioning bin
        try:
            # SALib's balanced delta also draws from numpy's global generator, whatever its seed
            # argument: seed that too (and put it back), so the same samples give the same indices
            state = np.random.get_state()
            np.random.seed(seed)
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    # SALib prints bin-merge and bias notices for every parameter
                    got = delta.analyze(problem, X, y, num_resamples=50, seed=seed, print_to_console=False)
            finally:
                np.random.set_state(state)
            # SALib >= 1.5 returns the bias-balanced delta (and the raw one); older versions "delta"
            key = "delta_balanced" if "delta_balanced" in got else "delta"
            d = {"delta": got[key], "delta_conf": got[f"{key}_conf"]}
        except (ValueError, IndexError, ZeroDivisionError):
            pass  # reported as NaN; S1 and Spearman remain
    return {
        name: {
            "S1": float(s1["S1"][j]),
            "S1_conf": float(s1["S1_conf"][j]),
            "delta": float(d["delta"][j]),
            "delta_conf": float(d["delta_conf"][j]),
            "spearman": float(stats.spearmanr(X[:, j], y).statistic),
        }
        for j, name in enumerate(problem["names"])
    }


def ranking_table(doc: dict[str, Any], top: int = 5) -> str:
    lines = [
        f"Sensitivity: {doc['n_done']} of {doc['n_samples']} parameter sets "
        f"({doc['world']}, {doc['policy']}, {doc['years']:g} years from 31 March {doc['start_year']}); "
        f"ranked by RBD-FAST first-order index S1"
    ]
    if doc["failed"]:
        lines.append(f"failed samples: {[f['sample'] for f in doc['failed']]}")
    for name, entry in doc["indices"].items():
        unit, label = KEY_OUTCOMES[name]
        lines.append(
            f"\n{label} ({unit}): mean {entry['mean']:.4g}, 90% range [{entry['q05']:.4g}, {entry['q95']:.4g}]"
        )
        ranked = sorted(entry["parameters"].items(), key=lambda kv: -kv[1]["S1"])
        for key, v in ranked[:top]:
            lines.append(
                f"  {key:42s} S1 {v['S1']:5.2f} (+-{v['S1_conf']:.2f})  delta {v['delta']:5.2f}  "
                f"Spearman {v['spearman']:+.2f}"
            )
    return "\n".join(lines)


def _plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, e in doc["indices"].items() if e["parameters"]]
    keys = [p["key"] for p in doc["parameters"]]
    mat = np.array([[doc["indices"][n]["parameters"][k]["S1"] for n in names] for k in keys])
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 4, 0.35 * len(keys) + 2), constrained_layout=True)
    im = ax.imshow(np.clip(mat, 0, None), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(names)), [KEY_OUTCOMES[n][1] for n in names], rotation=35, ha="right", fontsize=9)
    ax.set_yticks(range(len(keys)), keys, fontsize=9)
    ax.set_title("Share of each outcome's variance explained by one parameter (RBD-FAST S1)")
    fig.colorbar(im, ax=ax, label="first-order index S1 (0-1)")
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
