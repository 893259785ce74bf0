"""The shared vocabulary: placement types, exit routes, move reasons, age and needs bands, time.

Every module that names a placement type, a route out of care or an age band takes it from here,
so the model, its outputs, the studies and the report speak the same language. Index constants
(``KINSHIP``, ``CARE_PLAN`` ...) are positions in the tuples they follow.
"""

from __future__ import annotations

# ---------------------------------------------------------------------- time
DAYS_PER_YEAR = 365.25  # mean Julian year: model days per year of age, time in care and hazard rates
DAYS_PER_WEEK = 7.0
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0  # 30.44

# ---------------------------------------------------------------------- placements (DfE CLA categories)
PLACEMENT_TYPES = (
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
(
    KINSHIP,
    IN_HOUSE,
    IFA,
    LA_HOME,
    PRIVATE_HOME,
    SUPPORTED,
    SECURE,
    UNREGISTERED,
    WITH_PARENTS,
    ADOPTION,
    OTHER_SETTING,
) = range(len(PLACEMENT_TYPES))
FAMILY_BASED = (KINSHIP, IN_HOUSE, IFA, WITH_PARENTS, ADOPTION)
FOSTER_TYPES = (KINSHIP, IN_HOUSE, IFA)
CARER_KINDS = ("in_house", "ifa", "kinship")
# DfE's placement provider at 31 March (own provision, other LA, private, voluntary/third sector,
# parents or other person with parental responsibility; 'other' here: other settings and other public)
PROVIDERS = ("own_la", "other_la", "private", "voluntary", "parents", "other")
HOME_KINDS = ("la_home", "private_home", "supported_accommodation", "secure")

# ---------------------------------------------------------------------- leaving care and moving
EXIT_ROUTES = (
    "returned_home",
    "adopted",
    "special_guardianship",
    "child_arrangements_order",
    "lives_with_relatives",
    "staying_put",
    "independent_living",
    "other",
)
HAZARD_ROUTES = (  # exit routes with a hazard before 18; the rest happen at 18
    "returned_home",
    "adopted",
    "special_guardianship",
    "child_arrangements_order",
    "lives_with_relatives",
    "independent_living",
    "other",
)
MOVE_REASONS = (
    "care_plan",
    "carer_request_behaviour",
    "carer_request_other",
    "child_request",
    "standards_concern",
    "other",
    "provider_closure",
)
(CARE_PLAN, CARER_BEHAVIOUR, CARER_OTHER, CHILD_REQUEST, STANDARDS, OTHER_REASON, PROVIDER_CLOSURE) = range(
    len(MOVE_REASONS)
)

# ---------------------------------------------------------------------- children
AGE_BANDS = ("under1", "1_4", "5_9", "10_15", "16_17")
AGE_BAND_EDGES = (0.0, 1.0, 5.0, 10.0, 16.0, 18.0)  # years; DfE age bands
AGE_GROUPS = AGE_BANDS + ("18plus",)  # output age groups; 18plus for leavers
# sufficiency forecasts of next year's children in care (rcc_sim/engine/sufficiency.py)
FORECAST_METHODS = ("naive", "markov", "perfect")
NEEDS_TIERS = ("standard", "complex", "very_complex", "secure_welfare")
DURATION_BAND_EDGES = (0.0, 0.5, 1.0, 2.0, 4.0)  # years in care; last band open-ended
