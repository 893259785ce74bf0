"""Values inside the declared bounds that the engine must handle (issue 11).

Each test runs a config whose values all lie within their bounds and crashed the engine before.
"""

from __future__ import annotations

import numpy as np
import pytest

from rcc_sim.config import Config, to_object
from rcc_sim.run import simulate

GM = [f"E0800000{i}" for i in range(1, 10)] + ["E08000010"]


def gm(years: float = 0.1, **sections) -> Config:
    cfg = Config()
    cfg.world.name, cfg.world.la_codes = "greater_manchester", list(GM)
    cfg.sim.years, cfg.sim.check_invariants, cfg.sim.spin_up_years = years, True, 0
    for section, values in sections.items():
        for key, value in values.items():
            setattr(getattr(cfg, section), key, value)
    return to_object(cfg)  # within the bounds: validates


NO_PLANNED = {"planned_foster": 0.0, "planned_home": 0.0, "planned_supported": 0.0}
MULTIPLIER_CASES = {  # multiplier at 0 (its lower bound), with what makes the zero rate arise in five weeks
    "teen_multiplier": {},  # teenagers in kinship care
    "mismatch_multiplier": {"breakdown": NO_PLANNED},  # children placed below their needs tier
    "distance_multiplier": {"breakdown": NO_PLANNED},  # children placed over 20 miles from home
    "history_multiplier": {"breakdown": NO_PLANNED},  # children who have moved before
    "stretch_multiplier": {"breakdown": NO_PLANNED, "fostering": {"mainstream_households": 3000}},  # stretched
}


@pytest.mark.parametrize("name", list(MULTIPLIER_CASES))
def test_breakdown_multiplier_of_zero_runs(name):
    """A multiplier of 0 (no unplanned endings for that group) with no planned-move rate makes a
    placement's ending rate 0: no ending is scheduled (the issue's ZeroDivisionError in
    placement.py; fixed in the engine regroup, b67f3f0)."""
    extra = MULTIPLIER_CASES[name]
    breakdown = {**extra.get("breakdown", {}), name: 0.0}
    simulate(gm(**{**extra, "breakdown": breakdown}))


def test_breakdown_multipliers_that_underflow_run():
    """Multipliers so small that the rate underflows to 0.0 (5e-324 ** moves) behave as 0."""
    simulate(gm(breakdown={**NO_PLANNED, **{name: 5e-324 for name in MULTIPLIER_CASES}}))


def test_openings_when_no_simulated_home_is_filled():
    """No simulated private home has a child in it (every child has standard needs): every region's
    return is 0 and openings are weighed by the regions' homes (was 'Probabilities contain NaN' in
    provision.plan_openings)."""
    standard = [1.0, 0.0, 0.0, 0.0]
    simulate(
        gm(demand={"needs_shares_under10": standard, "needs_shares_10_15": standard, "needs_shares_16_17": standard})
    )


def test_scarcity_with_almost_no_usable_places_is_capped():
    """Hypothesis draw (slow property test, this stop): foster carers with a usable share of 0.002
    and a price elasticity of 6.75 put IFA occupancy of usable places far above 1, and the spot
    price's scarcity factor exp(6.75 x 100+) overflowed. The factor is capped at ten."""
    cfg = gm(
        0.1,
        fostering={"usable_place_share": 0.0019, "mainstream_households": 3000},
        market={"scarcity_elasticity": 6.754554006251809},
    )
    ds = simulate(cfg)
    assert float(ds["children_in_care"].sum()) > 0
    assert np.isfinite(ds["spend"].values).all()
