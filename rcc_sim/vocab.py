"""The shared vocabulary: placement types, exit routes, move reasons, age and needs bands, time.

Every module that names a placement type, a route out of care or an age band takes it from here,
so the model, its outputs, the studies and the report speak the same language. Index constants
(``KINSHIP``, ``CARE_PLAN`` ...) are positions in the tuples they follow.
"""

from __future__ import annotations

import math
from typing import Final

# ---------------------------------------------------------------------- time
DAYS_PER_YEAR: Final = 365.25  # mean Julian year: model days per year of age, time in care and hazard rates
DAYS_PER_WEEK: Final = 7.0
RADIANS_PER_DEGREE: Final = math.pi / 180.0  # what math.radians multiplies by (the same bits), inlined when compiled
DAYS_PER_MONTH: Final = DAYS_PER_YEAR / 12.0  # 30.44

# ---------------------------------------------------------------------- placements (DfE CLA categories)
PLACEMENT_TYPES: Final = (
    "kinship_foster",
    "in_house_foster",
    "ifa_foster",
    "la_home",
    "private_home",
    "supported_accommodation",
    "secure",
    "unregistered",
    "with_parents",
    "placed_for_adoption",
    "other_setting",
)
# their positions, written out so that the compiled engine reads them as constants (a test checks them)
KINSHIP: Final = 0
IN_HOUSE: Final = 1
IFA: Final = 2
LA_HOME: Final = 3
PRIVATE_HOME: Final = 4
SUPPORTED: Final = 5
SECURE: Final = 6
UNREGISTERED: Final = 7
WITH_PARENTS: Final = 8
ADOPTION: Final = 9
OTHER_SETTING: Final = 10
FAMILY_BASED: Final = (KINSHIP, IN_HOUSE, IFA, WITH_PARENTS, ADOPTION)
FOSTER_TYPES: Final = (KINSHIP, IN_HOUSE, IFA)
CARER_KINDS: Final = ("in_house", "ifa", "kinship")
# DfE's placement provider at 31 March (own provision, other LA, private, voluntary/third sector,
# parents or other person with parental responsibility; 'other' here: other settings and other public)
PROVIDERS: Final = ("own_la", "other_la", "private", "voluntary", "parents", "other")
HOME_KINDS: Final = ("la_home", "private_home", "supported_accommodation", "secure")

# ---------------------------------------------------------------------- leaving care and moving
EXIT_ROUTES: Final = (
    "returned_home",
    "adopted",
    "special_guardianship",
    "child_arrangements_order",
    "lives_with_relatives",
    "staying_put",
    "independent_living",
    "other",
)
HAZARD_ROUTES: Final = (  # exit routes with a hazard before 18; the rest happen at 18
    "returned_home",
    "adopted",
    "special_guardianship",
    "child_arrangements_order",
    "lives_with_relatives",
    "independent_living",
    "other",
)
MOVE_REASONS: Final = (
    "care_plan",
    "carer_request_behaviour",
    "carer_request_other",
    "child_request",
    "standards_concern",
    "other",
    "provider_closure",
)
CARE_PLAN: Final = 0
CARER_BEHAVIOUR: Final = 1
CARER_OTHER: Final = 2
CHILD_REQUEST: Final = 3
STANDARDS: Final = 4
OTHER_REASON: Final = 5
PROVIDER_CLOSURE: Final = 6

# ---------------------------------------------------------------------- children
AGE_BANDS: Final = ("under1", "1_4", "5_9", "10_15", "16_17")
# years; DfE age bands (not Final: mypyc 2.4 checks a Final tuple of floats wrongly where another
# compiled module reads it)
AGE_BAND_EDGES = (0.0, 1.0, 5.0, 10.0, 16.0, 18.0)
AGE_GROUPS: Final = AGE_BANDS + ("18plus",)  # output age groups; 18plus for leavers
# sufficiency forecasts of next year's children in care (rcc_sim/engine/sufficiency.py)
FORECAST_METHODS: Final = ("naive", "markov", "perfect")
NEEDS_TIERS: Final = ("standard", "complex", "very_complex", "secure_welfare")
DURATION_BAND_EDGES = (0.0, 0.5, 1.0, 2.0, 4.0)  # years in care; last band open-ended (not Final: as above)
