"""The spin-up (issue 12, point 1): the model starts before the base date and its outputs begin there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import small_config

from rcc_sim.config import ConfigError, RCCConfig, to_object
from rcc_sim.data import national_value
from rcc_sim.engine.model import CareSystemModel
from rcc_sim.engine.spinup import homes_ratio, mainstream_households, supply_config
from rcc_sim.run import simulate, to_dataset
from rcc_sim.vocab import KINSHIP


def test_supply_at_an_earlier_date_is_the_published_supply_of_that_date():
    cfg = to_object(small_config())
    assert supply_config(cfg, 2024) is cfg
    assert mainstream_households(2019, 33745) == national_value("ofsted_fostering_households_mainstream", 2019)
    assert 37325 < mainstream_households(2020, 33745) < 37520  # between the published 2019 and 2021
    early = supply_config(cfg, 2016)
    assert early.fostering.mainstream_households > cfg.fostering.mainstream_households  # carers were more
    assert early.provision.childrens_homes < cfg.provision.childrens_homes  # homes were fewer
    assert homes_ratio("ofsted_childrens_homes_providers", 2016) < homes_ratio("ofsted_childrens_homes_providers", 2020)
    assert early.provision.childrens_home_places >= early.provision.childrens_homes
    # supported accommodation: the published children in it, 2020 (the category's first year) before
    sa = "cla_place_independent_semiindependent_supported_accom_n"
    v20, v22, v23 = (national_value(sa, y) for y in (2020, 2022, 2023))
    assert early.provision.supported_places == round(cfg.provision.supported_places * v20 / (v23 * v23 / v22))
    assert supply_config(cfg, 2019).provision.supported_places == early.provision.supported_places


def _run_spun_up(keep: bool) -> CareSystemModel:
    cfg = small_config(years=0.5, sim={"spin_up_years": 2, "start_year": 2024}, output={"include_spin_up": keep})
    model = CareSystemModel(to_object(cfg))
    model.run()
    return model


def test_outputs_begin_at_the_base_date():
    kept = _run_spun_up(keep=True)
    ds = to_dataset(kept)
    full = to_dataset(kept, include_spin_up=True)
    assert ds.sizes["time"] == 26 and full.sizes["time"] == 26 + 104
    assert str(ds["time"].values[0])[:10] == "2024-04-07"
    assert str(full["time"].values[0])[:10] == "2022-04-07"
    assert str(full["time"].values[103])[:10] == "2024-03-31"
    assert ds.attrs["base_date"] == "2024-03-31" and ds.attrs["spin_up_years"] == 2
    # the base-date stock is what the dynamics made of the 2022 stock: not the published 2024 one
    np.testing.assert_array_equal(ds["children_in_care"].isel(time=0), full["children_in_care"].isel(time=104))
    assert float(full["starts"].isel(time=slice(0, 104)).sum()) > 0  # children arrived during the spin-up


def test_a_spin_up_not_kept_is_not_stored_and_changes_nothing_else():
    """Without output.include_spin_up the spin-up's weeks are not stored (Recorder.first_week):
    the outputs from the base date are the same bits, the spend check still holds (the flows of
    the weeks not stored are kept as totals), and asking for the spin-up's weeks is refused."""
    kept, lean = _run_spun_up(keep=True), _run_spun_up(keep=False)
    assert lean.rec.first_week == 104 and kept.rec.first_week == 0
    assert lean.rec.out["children_in_care"].shape[0] == 26
    a, b = to_dataset(kept), to_dataset(lean)
    assert list(a.data_vars) == list(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    np.testing.assert_array_equal(a["time"].values, b["time"].values)
    spend_before = float(kept.rec.out["spend"][:104].sum())
    assert spend_before > 0 and lean.rec.unkept["spend"] == pytest.approx(spend_before, rel=1e-9)
    days = np.diff(np.r_[0.0, kept.week_ends])[:104]
    child_days = float((kept.rec.out["children_in_care"][:104].sum(axis=1) * days).sum())
    assert lean.rec.unkept_days["children_in_care"] == pytest.approx(child_days, rel=1e-9)
    lean.check_invariants()
    with pytest.raises(ValueError, match="output.include_spin_up=true"):
        to_dataset(lean, include_spin_up=True)


def test_policy_timings_stay_relative_to_the_base_date():
    """An RCC set up half a year after the base date spends its first set-up money then, with or
    without a spin-up before the base date."""

    def first_setup_week(spin: int) -> int:
        cfg = small_config(years=1.0, sim={"spin_up_years": spin})
        cfg.policy.rccs = {"gm3": RCCConfig(members=list(cfg.world.la_codes), start_years=0.5, ramp_up_years=0.25)}
        cost = simulate(cfg)["rcc_setup_cost"].sum("la").values
        return int(np.flatnonzero(cost > 0)[0])

    assert first_setup_week(0) == first_setup_week(1) == 26


def test_a_spin_up_before_2016_is_refused():
    with pytest.raises(ConfigError, match=r"'sim.spin_up_years' = 8.*before 31 March 2016"):
        to_object(small_config(sim={"spin_up_years": 8, "start_year": 2023}))


POLICIES = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "configs" / "policy").glob("*.yaml"))


@pytest.fixture(scope="module")
def status_quo_spin_up():
    return _spin_up_run("status_quo")


def _spin_up_run(policy: str):
    import rcc_sim

    cfg = rcc_sim.load_config(
        [
            f"policy={policy}",
            "world=greater_manchester",
            "sim.years=0.25",
            "sim.spin_up_years=1",
            "sim.start_year=2024",
            "output.report=false",
            "output.include_spin_up=true",
        ]
    )
    model = CareSystemModel(cfg)
    model.run()
    return to_dataset(model, include_spin_up=True), model.base_week


@pytest.mark.parametrize("policy", [p for p in POLICIES if p != "status_quo"])
def test_no_policy_acts_before_the_base_date(policy, status_quo_spin_up):
    """Both arms of a paired comparison reach the base date in the same state: a policy, the
    reform package's national levers included, acts only from there. The spin-up replays the
    published past, in which no reform was in force. (Before the fix the package's levers - the
    profit cap, the national discount, the standards reform - acted from the spin-up's first week.)"""
    sq, base_week = status_quo_spin_up
    ds, _ = _spin_up_run(policy)
    spin = slice(0, base_week)
    for name, var in sq.data_vars.items():
        if "time" in var.dims:
            a, b = var.isel(time=spin).values, ds[name].isel(time=spin).values
            assert np.array_equal(a, b, equal_nan=True), f"{policy}: {name} differs during the spin-up"
    changed = [n for n, v in sq.data_vars.items() if "time" in v.dims and not v.equals(ds[n])]
    assert changed, f"{policy}: no output differs after the base date either (is the policy applied at all?)"


def test_arms_sharing_one_spin_up_match_running_each_alone():
    """simulate_arms runs the spin-up once, keeps the base-date state (a pickle with the
    recorder's shared buffers intact) and continues every arm from a copy: each arm's outputs
    are bit for bit those of running it alone."""
    import rcc_sim
    from rcc_sim.run import simulate, simulate_arms

    overrides = ["world=greater_manchester", "sim.years=0.25", "sim.spin_up_years=1", "sim.start_year=2024"]
    overrides += ["output.report=false", "output.include_spin_up=true"]
    cfgs = [rcc_sim.load_config([*overrides, f"policy={p}"]) for p in ("status_quo", "reform_package", "pathfinders")]
    arms = simulate_arms(cfgs)
    alone = [simulate(c) for c in cfgs]
    for cfg, shared, own in zip(cfgs, arms, alone):
        assert shared.attrs["policy"] == cfg.policy.name and shared.attrs["config"] == own.attrs["config"]
        for name, var in own.data_vars.items():
            assert np.array_equal(var.values, shared[name].values, equal_nan=True), f"{cfg.policy.name}: {name}"


def test_a_snapshot_refuses_a_config_that_differs_beyond_the_policy():
    import rcc_sim

    cfg = rcc_sim.load_config(["world=greater_manchester", "sim.years=0.1", "sim.spin_up_years=1"])
    model = CareSystemModel(cfg)
    with pytest.raises(ValueError, match="run_to_base first"):
        model.snapshot()
    model.run_to_base()
    state = model.snapshot()
    other = rcc_sim.load_config(["world=greater_manchester", "sim.years=0.1", "sim.spin_up_years=1", "seed=1"])
    with pytest.raises(ValueError, match="more than 'policy'"):
        CareSystemModel.from_snapshot(state, other)
    with pytest.raises(ValueError, match="already run"):
        model.run_to_base()


def test_a_damaged_spin_up_state_is_replaced_not_trusted(tmp_path, capsys):
    import rcc_sim
    from rcc_sim.run import model_at_base, spin_up_key

    gm = ["world=greater_manchester", "sim.years=0.1", "sim.spin_up_years=1"]
    cfg = rcc_sim.load_config(gm)
    path = tmp_path / f"{spin_up_key(cfg)}.pkl"
    path.write_bytes(b"half a file")
    model = model_at_base(cfg, tmp_path)
    assert model.paused_at_base and "not used" in capsys.readouterr().err
    again = model_at_base(cfg, tmp_path)  # the state it left is whole: used, not simulated again
    assert again.paused_at_base and "continued from" in capsys.readouterr().out
    assert spin_up_key(rcc_sim.load_config([*gm, "seed=1"])) != spin_up_key(cfg)
    pol = rcc_sim.load_config([*gm, "policy=pathfinders"])
    assert spin_up_key(pol) == spin_up_key(cfg)  # the policy is not part of the spin-up


def _kinship_at_start(spin_up_years: int, scale: float) -> int:
    sim = {"spin_up_years": spin_up_years, "start_year": 2024}
    cfg = small_config(years=0.1, sim=sim, placement={"kinship_at_spin_up_start": scale})
    model = CareSystemModel(to_object(cfg))
    return sum(c.ptype == KINSHIP for c in model.children.values())


def test_a_spin_up_starts_kinship_care_at_the_start_years_level_and_a_base_date_start_does_not():
    # a spin-up's first-day stock: fewer children with kin when the start-year multiplier is lower
    full, low = _kinship_at_start(2, 1.0), _kinship_at_start(2, 0.5)
    assert full > 0
    assert low < 0.7 * full
    # starting at the base date, the base date's kinship share applies whatever the multiplier
    assert _kinship_at_start(0, 0.5) == _kinship_at_start(0, 1.0)
