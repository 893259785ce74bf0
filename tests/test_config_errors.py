"""Bad configs stop before any work, with one message naming the key at fault."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

import pytest
from conftest import run_cli

from rcc_sim.config import Config, ConfigError, parameter_table, to_object

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
