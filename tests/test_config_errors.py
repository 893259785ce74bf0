"""Bad configs stop before any work, with one message naming the key at fault."""

from __future__ import annotations

import subprocess
from dataclasses import fields, is_dataclass

import pytest
from conftest import GM3, rcc_sim_command, run_cli

from rcc_sim.config import Config, ConfigError, parameter_table, to_object
from rcc_sim.data import load_las

REGIONS = [
    "East Midlands",
    "East of England",
    "London",
    "North East",
    "North West",
    "South East",
    "South West",
    "West Midlands",
    "Yorkshire and The Humber",
]
BAD = [  # (override, key the message must name)
    ({"sim": {"yeras": 1}}, "sim.yeras"),
    ({"foo": 1}, "foo"),
    ({"sim": {"years": "abc"}}, "sim.years"),
    ({"seed": "x"}, "seed"),
    ({"fostering": {"mainstream_households": 1.5}}, "fostering.mainstream_households"),
    ({"sim": {"years": float("nan")}}, "sim.years"),
    ({"sim": {"years": 0.0}}, "sim.years"),
    ({"demand": {"entry_rate_scale": -1}}, "demand.entry_rate_scale"),
    ({"exits": {"adopted": [0.1, 0.3, 0.0, -0.01, 0.0]}}, "exits.adopted[3]"),
    ({"fostering": {"approval_rate": 1.5}}, "fostering.approval_rate"),
    ({"world": {"outside_occupancy": -0.1}}, "world.outside_occupancy"),
    ({"world": {"la_codes": ["E99999999"]}}, "world.la_codes[0]"),
    ({"world": {"la_codes": ["E08000001", "E99999999"]}}, "world.la_codes[1]"),
    ({"world": {"la_codes": ["E08000001", "E08000001"]}}, "world.la_codes"),
    ({"demand": {"start_age_shares": [0.2, 0.2, 0.2, 0.2, 0.3]}}, "demand.start_age_shares"),
    ({"fostering": {"places_per_household_shares": [0.5, 0.5, 0.5, 0.0]}}, "fostering.places_per_household_shares"),
    ({"placement": {"kinship_at_entry": [0.1, 0.1]}}, "placement.kinship_at_entry"),
    ({"demand": {"needs_shares_under10": [0.9, 0.1, 0.0]}}, "demand.needs_shares_under10"),
    ({"exits": {"returned_home_duration": [1.0, 1.0, 1.0, 1.0]}}, "exits.returned_home_duration"),
    ({"provision": {"region_home_shares": {"Mars": 0.1}}}, "provision.region_home_shares"),
    ({"provision": {"la_run_homes": 5000}}, "provision.la_run_homes"),
    ({"output": {"float_dtype": "int8"}}, "output.float_dtype"),
    # issue 12: where the starts come from
    ({"demand": {"starts_source": "oracle"}}, "demand.starts_source"),
    ({"demand": {"starts_forecast": "arima"}}, "demand.starts_forecast"),
    ({"demand": {"starts_forecast_years": 0}}, "demand.starts_forecast_years"),
    ({"demand": {"starts_forecast_years": 10}}, "demand.starts_forecast_years"),
    ({"demand": {"starts_forecast_years": 2.5}}, "demand.starts_forecast_years"),
    ({"demand": {"starts_trend_damping": 1.5}}, "demand.starts_trend_damping"),
    ({"demand": {"starts_trend_damping": -0.1}}, "demand.starts_trend_damping"),
    ({"demand": {"published_starts_until": 2023}}, "demand.published_starts_until"),
    # issue 11: seeds, non-finite numbers, (min, max) pairs, bounds that meant nothing, RCC members
    ({"seed": -1}, "seed"),
    ({"seed": 2**64}, "seed"),
    ({"compare": {"seeds": []}}, "compare.seeds"),
    ({"compare": {"seeds": [-1]}}, "compare.seeds[0]"),
    ({"compare": {"seeds": [0, 0]}}, "compare.seeds"),
    ({"breakdown": {"unplanned_foster": float("inf")}}, "breakdown.unplanned_foster"),
    ({"demand": {"entry_rate_scale": float("inf")}}, "demand.entry_rate_scale"),
    ({"demand": {"entry_rate_scale": 1e400}}, "demand.entry_rate_scale"),
    ({"demand": {"entry_rate_scale": 1e6}}, "demand.entry_rate_scale"),
    ({"exits": {"by_la_range": [2.5, 0.4]}}, "exits.by_la_range"),
    ({"exits": {"by_la_range": [0.4]}}, "exits.by_la_range"),
    ({"market": {"tier_price_multipliers": [0.0, 1.25, 1.8, 2.4]}}, "market.tier_price_multipliers[0]"),
    ({"market": {"ifa_margin": -1.0}}, "market.ifa_margin"),
    ({"market": {"home_margin": -1.0}}, "market.home_margin"),
    ({"provision": {"property_cost_index": {"London": 0.0}}}, "provision.property_cost_index.London"),
    ({"provision": {"property_cost_index": {"Mars": 1.0}}}, "provision.property_cost_index"),
    ({"fostering": {"in_house_cost_week": 0.0}}, "fostering.in_house_cost_week"),
    ({"policy": {"package": {"profit_cap_margin": -0.5}}}, "policy.package.profit_cap_margin"),
    ({"policy": {"rccs": {"x": {"members": ["E99999999"]}}}}, "policy.rccs.x.members[0]"),
    ({"policy": {"rccs": {"x": {"members": ["E08000001", "E08000001", "E08000002"]}}}}, "policy.rccs.x.members"),
    (
        {"policy": {"rccs": {"x": {"members": ["E08000001"], "in_house_applicant_uplift": -0.5}}}},
        "policy.rccs.x.in_house_applicant_uplift",
    ),
    ({"policy": {"rccs": {"x": {"members": ["E08000001"], "pooled_serch": True}}}}, "policy.rccs.x.pooled_serch"),
    ({"policy": {"rccs": {"x": {"region": "Mars"}}}}, "policy.rccs.x.region"),
    ({"policy": {"rccs": {"x": {"region": "North West", "members": ["E08000001"]}}}}, "policy.rccs.x"),
    ({"policy": {"rccs": {"x": {"start_years": 1.0}}}}, "policy.rccs.x"),
    ({"policy": {"rccs": {"a": {"members": ["E08000001"]}, "b": {"members": ["E08000001"]}}}}, "policy.rccs.a"),
    ({"policy": {"rccs": {"a": {"region": "North West"}, "b": {"members": ["E08000001"]}}}}, "policy.rccs.a"),
    ({"policy": {"rollout": {"regions": ["Mars"]}}}, "policy.rollout.regions[0]"),
    (
        {"policy": {"rccs": {"x": {"members": ["E08000001"], "home_build_cost_gbp": 1e-300}}}},
        "policy.rccs.x.home_build_cost_gbp",
    ),
    ({"provision": {"region_home_shares": {r: 0.0 for r in REGIONS}}}, "provision.region_home_shares"),
    (
        {"world": {"la_codes": GM3}, "policy": {"rccs": {"x": {"members": ["E08000001", "E06000001"]}}}},
        "policy.rccs.x.members",
    ),
    ({"world": {"la_codes": GM3}, "policy": {"rccs": {"x": {"region": "North West"}}}}, "policy.rccs.x.region"),
]


@pytest.mark.parametrize("override,key", BAD, ids=[k for _, k in BAD])
def test_to_object_rejects_with_key(override, key):
    with pytest.raises(ConfigError) as err:
        to_object(override)
    assert f"'{key}'" in str(err.value), f"message does not name {key!r}: {err.value}"


def test_defaults_are_valid():
    cfg = to_object({})
    assert isinstance(cfg, Config)
    assert to_object(Config()) == cfg


def test_validate_checks_a_config_object_too():
    cfg = Config()
    cfg.fostering.approval_rate = 1.5
    with pytest.raises(ConfigError, match="'fostering.approval_rate'"):
        to_object(cfg)


def test_every_model_parameter_has_unit_and_source():
    """Every parameter of the model sections is declared with param(): a unit and a source."""
    table = {row["key"]: row for row in parameter_table()}
    cfg = Config()
    missing = []
    for section in ("demand", "exits", "placement", "breakdown", "fostering", "provision", "market"):
        node = getattr(cfg, section)
        assert is_dataclass(node)
        for f in fields(node):
            key = f"{section}.{f.name}"
            row = table.get(key)
            if row is None or not str(row["unit"]).strip() or not str(row["source"]).strip():
                missing.append(key)
    assert not missing, f"parameters without unit/source: {missing}"


CLI_BAD = [  # (override, text the error output must contain)
    ("foo=1", "foo"),
    ("sim.years=abc", "sim.years"),
    ("demand.entry_rate_scale=-1", "demand.entry_rate_scale"),
    ("world.la_codes=[E99999999]", "world.la_codes"),
]


@pytest.mark.parametrize("override,key", CLI_BAD, ids=[k for _, k in CLI_BAD])
def test_cli_rejects_with_key_and_writes_nothing(override, key, tmp_path):
    run_dir = tmp_path / "run"
    out = run_cli(override, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode != 0, f"rcc-sim {override} exited 0\n{out.stdout}\n{out.stderr}"
    assert key in out.stderr + out.stdout, f"output does not name {key}:\n{out.stdout}\n{out.stderr}"
    assert "Traceback" not in out.stderr, out.stderr
    assert not list(tmp_path.rglob("results.nc")), "results.nc written for a bad config"
    assert not list(tmp_path.rglob("manifest.json")), "manifest.json written for a bad config"


# --------------------------------------------------------------------------------------------
# Issue 11: the same refusals through the command line (Hydra composes the config first, so
# keys added with '+' and whole new RCCs go through a different path than to_object(dict))
# --------------------------------------------------------------------------------------------
GM = "world=greater_manchester"
SHORT = (GM, "sim.years=0.05")  # if a refusal regressed, the run that follows is short
CLI_REFUSED = [  # (arguments after SHORT, text the error must contain)
    (("+sim.yeers=1",), "sim.yeers"),
    (("policy=pathfinders", "+policy.rccs.greater_manchester.pooled_serch=true"), "pooled_serch"),
    (("+policy.rccs.x.members=[E08000001,E08000001,E08000002]",), "policy.rccs.x.members"),
    (("+policy.rccs.x.members=[E99999999]",), "policy.rccs.x.members[0]"),
    (("policy=pathfinders", "+policy.rccs.x.members=[E08000001]"), "shares member LAs"),
    (("+policy.rccs.x.members=[E08000001,E06000001]",), "not in the simulated world"),
    (("seed=-1",), "seed"),
    (("seed=99999999999999999999999",), "seed"),
    (("breakdown.unplanned_foster=inf",), "breakdown.unplanned_foster"),
    (("demand.entry_rate_scale=inf",), "demand.entry_rate_scale"),
    (("demand.entry_rate_scale=1e400",), "demand.entry_rate_scale"),
    (("market.tier_price_multipliers=[0,1.25,1.8,2.4]",), "market.tier_price_multipliers[0]"),
    (("policy=profit_cap", "market.ifa_margin=-1"), "market.ifa_margin"),
    (("provision.property_cost_index.London=0",), "provision.property_cost_index.London"),
    (("exits.by_la_range=[2.5,0.4]",), "exits.by_la_range"),
    (("demand.male_share=1.5",), "demand.male_share"),
]


@pytest.mark.parametrize("args,needle", CLI_REFUSED, ids=[a[-1] for a, _ in CLI_REFUSED])
def test_cli_refuses_before_any_work_and_leaves_no_run_dir(args, needle, tmp_path):
    """One message naming the key, exit code 2, no traceback, and no run directory left behind."""
    run_dir = tmp_path / "run"
    out = run_cli(*SHORT, *args, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert out.returncode == 2, f"rcc-sim {args} exited {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert needle in out.stderr, f"output does not name {needle}:\n{out.stdout}\n{out.stderr}"
    assert "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, f"not one message:\n{out.stderr}"
    assert not run_dir.exists(), f"run directory left behind: {sorted(p.name for p in run_dir.iterdir())}"


@pytest.mark.parametrize("seeds", ["[]", "[-1]", "[0,0]"])
def test_compare_refuses_bad_seeds(seeds, tmp_path):
    """No seeds, an impossible seed, or one seed counted twice (a '95% interval' from one
    replicate) are refused before any run, naming compare.seeds."""
    run_dir = tmp_path / "cmp"
    out = subprocess.run(
        [
            *rcc_sim_command("rcc-sim-compare"),
            GM,
            "sim.years=0.05",
            f"compare.seeds={seeds}",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, f"{out.stdout}\n{out.stderr}"
    assert "compare.seeds" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not run_dir.exists()


def test_a_new_rcc_can_be_added_from_the_command_line():
    """+policy.rccs.<new name>.* adds a whole RCC (its other levers at their defaults)."""
    from test_worlds import composed

    from rcc_sim.config import RCCConfig

    cfg = composed(
        GM, "+policy.rccs.bolton_bury.members=[E08000001,E08000002]", "+policy.rccs.bolton_bury.pooled_search=true"
    )
    rcc = cfg.policy.rccs["bolton_bury"]
    assert isinstance(rcc, RCCConfig)
    assert rcc.members == ["E08000001", "E08000002"] and rcc.pooled_search is True
    assert rcc.start_years == RCCConfig().start_years
    from rcc_sim.engine.model import CareSystemModel

    cfg.sim.spin_up_years = 0  # the policy is set up at the base date: here, at set-up
    [built] = CareSystemModel(cfg).commissioning.rccs
    assert built.name == "bolton_bury" and len(built.members) == 2


def test_composed_config_refuses_keys_added_with_plus():
    """Hydra adds a '+' key to its composed config; to_object must refuse it, not drop it."""
    from test_worlds import composed

    with pytest.raises(ConfigError, match=r"'sim\.yeers'.*did you mean 'sim\.years'"):
        composed(GM, "+sim.yeers=1")
    with pytest.raises(ConfigError, match="'policy.rccs.greater_manchester.pooled_serch'"):
        composed(GM, "policy=pathfinders", "+policy.rccs.greater_manchester.pooled_serch=true")


def test_rcc_wholly_outside_the_world_is_the_outside_market():
    """The pathfinders policy in the Greater Manchester world keeps the South East RCC (all of it
    outside the world, i.e. part of the outside market); an RCC straddling the world is refused."""
    from test_worlds import composed

    from rcc_sim.config import rcc_members

    cfg = composed(GM, "policy=pathfinders")
    members = rcc_members(cfg)
    assert len(members["greater_manchester"]) == 10 and len(members["south_east"]) == 16
    assert not set(members["south_east"]) & set(cfg.world.la_codes)


HAMPSHIRE, KENT, SLOUGH = "E10000014", "E10000016", "E06000039"


def test_las_opt_out_of_a_region_rcc_and_of_the_roll_out():
    """The South East RCC is 16 of the region's 19 LAs (Hampshire, Kent and Slough are not
    members); opted-out LAs stay with the status quo in the model too, and join no roll-out RCC."""
    from rcc_sim.config import rcc_members
    from rcc_sim.engine.model import CareSystemModel

    se = rcc_members(to_object({"policy": {"rccs": {"se": {"region": "South East"}}}}))["se"]
    assert len(se) == 19
    cfg = to_object({"policy": {"rccs": {"se": {"region": "South East", "opt_out": [HAMPSHIRE, KENT, SLOUGH]}}}})
    members = rcc_members(cfg)["se"]
    assert len(members) == 16 and not {HAMPSHIRE, KENT, SLOUGH} & set(members)
    cfg = to_object(
        {
            "world": {"la_codes": se},
            "sim": {"years": 0.02, "spin_up_years": 0},
            "policy": {"rccs": {"se": {"region": "South East", "opt_out": [HAMPSHIRE, KENT, SLOUGH]}}},
        }
    )
    model = CareSystemModel(cfg)
    codes = list(model.world.codes)
    assert sorted(codes[j] for j in model.commissioning.rccs[0].members) == sorted(members)
    rollout = to_object({"policy": {"rollout": {"regions": ["South East", "London"], "opt_out": [KENT]}}})
    resolved = rcc_members(rollout)
    assert len(resolved["rollout_south_east"]) == 18 and KENT not in resolved["rollout_south_east"]


@pytest.mark.parametrize(
    "rcc, message",
    [
        ({"region": "South East", "opt_out": ["E08000001"]}, r"\['E08000001'\] are not LAs of the South East"),
        ({"region": "South East", "opt_out": ["E99999999"]}, r"'policy.rccs.x.opt_out\[0\]' = 'E99999999'"),
        ({"region": "South East", "opt_out": [KENT, KENT]}, r"opt_out' lists \['E10000016'\] more than once"),
        ({"members": [KENT], "opt_out": [KENT]}, r"'policy.rccs.x.opt_out': opting out is from a region"),
    ],
)
def test_bad_opt_outs_are_refused_naming_the_key(rcc, message):
    with pytest.raises(ConfigError, match=message):
        to_object({"policy": {"rccs": {"x": rcc}}})


def test_every_number_has_finite_bounds():
    """Bounds that mean something: every numeric parameter declares both ends."""
    from rcc_sim.config import CalibrationConfig, RCCConfig, SensitivityConfig

    missing = []

    def walk(node, prefix):
        for f in fields(node):
            value = getattr(node, f.name)
            if is_dataclass(value):
                walk(value, f"{prefix}{f.name}.")
            elif (
                isinstance(value, (int, float, list, dict))
                and not isinstance(value, bool)
                and "unit" in f.metadata
                and (f.metadata.get("lo") is None or f.metadata.get("hi") is None)
            ):
                missing.append(prefix + f.name)

    for node, prefix in (
        (Config(), ""),
        (RCCConfig(), "rcc."),
        (CalibrationConfig(), "cal."),
        (SensitivityConfig(), "sens."),
    ):
        walk(node, prefix)
    assert not missing, f"numeric parameters without both bounds: {missing}"


def test_calibrated_values_and_ranges_lie_within_the_bounds():
    from rcc_sim.config import CALIBRATED, _param_meta

    for key, rng in (CALIBRATED.get("ranges") or {}).items():
        meta = _param_meta(key)
        lo, hi = meta.get("lo"), meta.get("hi")
        values = rng if isinstance(rng, list) else [rng]
        for v in values:
            if isinstance(v, (int, float)):
                assert lo is None or v >= lo, (key, v, lo)
                assert hi is None or v <= hi, (key, v, hi)


def test_the_2026_wave_starts_six_rccs_together_and_the_national_roll_out_follows_it():
    from test_worlds import composed

    from rcc_sim.config import rcc_members
    from rcc_sim.engine.commissioning import Commissioning

    wave = composed("policy=rcc_wave_2026")
    members = rcc_members(wave)
    rollout = [k for k in members if k.startswith("rollout_")]
    assert len(rollout) == 6 and {"greater_manchester", "south_east"} <= set(members)
    starts = {name: c.start_years for name, c, _ in Commissioning._all_rccs(wave.policy)}
    assert {starts[k] for k in rollout} == {2.25}  # 1 July 2026
    national = composed("policy=national_rollout")
    every = rcc_members(national)
    assert set(members) < set(every)
    left = {c for c in load_las()["code"]} - {c for m in every.values() for c in m}
    assert left == {HAMPSHIRE, KENT, SLOUGH}  # the South East RCC's non-members stay out
    with pytest.raises(ConfigError, match="'policy.rollout.region_start_years' has 2 entries for 6 regions"):
        composed("policy=rcc_wave_2026", "policy.rollout.region_start_years=[1.0,2.0]")
    with pytest.raises(ConfigError, match=r"'policy.rollout.region_start_years\[0\]' = -1.0"):
        composed("policy=rcc_wave_2026", "policy.rollout.region_start_years=[-1.0,2,2,2,2,2]")


def test_a_renamed_lever_says_its_new_name_and_how_to_convert():
    """policy.rccs.<x>.in_house_applicant_share became an uplift on the status quo's share."""
    from rcc_sim import load_config

    with pytest.raises(ConfigError, match=r"in_house_applicant_share' was renamed 'in_house_applicant_uplift'.*0\.05"):
        load_config(["policy=pathfinders", "policy.rccs.greater_manchester.in_house_applicant_share=0.55"])
    with pytest.raises(ConfigError, match="renamed 'in_house_applicant_uplift'"):
        to_object({"policy": {"rccs": {"x": {"members": ["E08000001"], "in_house_applicant_share": 0.55}}}})


def test_the_recruitment_hub_adds_its_uplift_to_the_status_quo_share():
    from rcc_sim.engine.model import CareSystemModel

    cfg = to_object(
        {
            "world": {"la_codes": ["E08000001", "E08000002"]},
            "sim": {"spin_up_years": 0},
            "fostering": {"in_house_applicant_share": 0.3},
            "policy": {"rccs": {"x": {"members": ["E08000001"], "in_house_applicant_uplift": 0.05}}},
        }
    )
    model = CareSystemModel(cfg)
    [rcc] = model.commissioning.rccs
    model.commissioning._develop(rcc)
    assert model.commissioning.in_house_share[rcc.members].tolist() == pytest.approx([0.35])
    assert model.commissioning.in_house_share[1] == 0.3  # not a member: the status quo's share
