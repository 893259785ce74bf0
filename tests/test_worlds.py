"""The config groups compose into valid configs, and the pathfinder worlds hold the right LAs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CONFIG_DIR
from hydra import compose, initialize_config_dir

from rcc_sim.config import Config, register_configs, to_object
from rcc_sim.data import load_las


def composed(*overrides: str) -> Config:
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return to_object(compose(config_name="config", overrides=list(overrides)))


@pytest.mark.parametrize("world,n,region", [("greater_manchester", 10, "North West"), ("south_east", 19, "South East")])
def test_pathfinder_world(world, n, region):
    cfg = composed(f"world={world}")
    assert cfg.world.name == world
    codes = cfg.world.la_codes
    assert len(codes) == n == len(set(codes))
    las = load_las()
    region_of = dict(zip(las["code"], las["region"]))
    assert {region_of[c] for c in codes} == {region}
    if world == "south_east":  # the whole region
        assert sorted(codes) == sorted(c for c, r in region_of.items() if r == "South East")


def test_default_is_england_status_quo_five_years():
    cfg = composed()
    assert cfg.world.name == "england" and cfg.world.la_codes == []
    assert cfg.policy.name == "status_quo"
    assert cfg.sim.years == 5.0 and cfg.seed == 0
    assert cfg == to_object(Config())  # the YAML defaults are the schema's defaults


def test_overrides_compose():
    cfg = composed("world=greater_manchester", "sim.years=0.25", "seed=1", "demand.entry_rate_scale=1.1")
    assert (cfg.sim.years, cfg.seed, cfg.demand.entry_rate_scale) == (0.25, 1, 1.1)


POLICIES = sorted(p.stem for p in (Path(CONFIG_DIR) / "policy").glob("*.yaml"))


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_config_composes_and_builds(policy):
    """Each scenario file is a valid diff of the schema, and its RCCs resolve to real LAs."""
    from rcc_sim.engine.model import CareSystemModel

    # no spin-up: the policy is set up at the base date, here at set-up
    cfg = composed(f"policy={policy}", "world=greater_manchester", "sim.years=0.25", "sim.spin_up_years=0")
    assert cfg.policy.name == policy
    model = CareSystemModel(cfg)
    assert bool(model.commissioning.rccs) == bool(cfg.policy.rccs or cfg.policy.rollout.regions)
    for rcc in model.commissioning.rccs:
        assert len(rcc.members) > 0 and rcc.live_t >= rcc.start_t
