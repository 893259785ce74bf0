"""Model against the published national statistics (face validity; the fit report of calibration).

:func:`compare` turns a one-year England Dataset into rows of (target, published value, model
value, difference). The model's first simulated year (to 31 March of the base year + 1) is set
against the latest published year; prices are compared with the published figure uprated to
2024 where the config says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from rcc_sim.data import load_targets
from rcc_sim.vocab import AGE_GROUPS


@dataclass
class Row:
    key: str
    label: str
    published: float
    model: float
    unit: str
    kind: str  # "count" (compare by % difference) or "share" (compare by percentage points)
    note: str = ""

    @property
    def diff(self) -> float:
        if self.kind == "share":
            return 100.0 * (self.model - self.published)  # percentage points
        return 100.0 * (self.model / self.published - 1.0) if self.published else float("nan")


def _child_weeks(ds: xr.Dataset) -> xr.DataArray:
    days = np.diff(np.r_[0.0, (ds.time.values - np.datetime64(ds.attrs["base_date"])) / np.timedelta64(1, "D")])
    w = xr.DataArray(days / 7.0, dims="time", coords={"time": ds.time})
    return (ds["placements"] * w).sum(("time", "la"))


def compare(ds: xr.Dataset, cfg=None) -> list[Row]:
    """Rows of published target against model for the first simulated year of ``ds``."""
    t = load_targets()
    tv = {k: v["value"] for k, v in t.items()}
    year1 = ds.isel(time=slice(0, 52))
    end = year1.isel(time=-1).sum("la")
    flows = year1.sum(("time", "la"))
    cic = float(end["children_in_care"])
    place = end["placements"]
    rows = [
        Row("cla_stock", "Children in care at 31 March", tv["cla_stock"], cic, "children", "count"),
        Row("cla_starts", "Starts in the year", tv["cla_starts"], float(flows["starts"]), "children", "count"),
        Row("cla_ceased", "Ceased in the year", tv["cla_ceased"], float(flows["ceased"].sum()), "children", "count"),
    ]
    by_age = ds["children_in_care_by_age_31mar"].isel(year=0).sum("la")
    for key, groups in (
        ("under1", ["under1"]),
        ("1_4", ["1_4"]),
        ("5_9", ["5_9"]),
        ("10_15", ["10_15"]),
        ("16plus", ["16_17", "18plus"]),
    ):
        rows.append(
            Row(
                f"age_share_{key}",
                f"Stock aged {key.replace('_', '-')}",
                tv[f"age_share_{key}"],
                float(by_age.sel(age_group=groups).sum() / by_age.sum()),
                "share of stock",
                "share",
            )
        )
    starts_age = flows["starts_by_age"]
    for key, groups in (
        ("under1", ["under1"]),
        ("1_4", ["1_4"]),
        ("5_9", ["5_9"]),
        ("10_15", ["10_15"]),
        ("16plus", ["16_17"]),
    ):
        rows.append(
            Row(
                f"start_age_share_{key}",
                f"Starts aged {key.replace('_', '-')}",
                tv[f"start_age_share_{key}"],
                float(starts_age.sel(age_group=groups).sum() / starts_age.sum()),
                "share of starts",
                "share",
            )
        )
    ceased_age = flows["ceased_by_age"]
    for g in AGE_GROUPS:
        rows.append(
            Row(
                f"ceased_age_share_{g}",
                f"Ceased aged {g.replace('_', '-')}",
                tv[f"ceased_age_share_{g}"],
                float(ceased_age.sel(age_group=g) / ceased_age.sum()),
                "share of ceased",
                "share",
            )
        )
    ceased = flows["ceased"]
    route_targets = {
        "returned_home": "returned_home",
        "adopted": "adopted",
        "special_guardianship": "special_guardianship",
        "child_arrangements_order": "child_arrangements_order",
        "lives_with_relatives": "lives_with_relatives",
        "staying_put": "aged18_stayed_with_carers",
        "independent_living": "independent_living",
    }
    for route, key in route_targets.items():
        rows.append(
            Row(
                f"ceased_reason_{key}",
                f"Ceased: {route.replace('_', ' ')}",
                tv[f"ceased_reason_{key}"],
                float(ceased.sel(exit_route=route) / ceased.sum()),
                "share of ceased",
                "share",
            )
        )
    rows.append(
        Row(
            "ceased_reason_other+another_la",
            "Ceased: other (incl. care taken by another LA)",
            tv["ceased_reason_other"] + tv["ceased_reason_care_taken_by_another_la"],
            float(ceased.sel(exit_route="other") / ceased.sum()),
            "share of ceased",
            "share",
        )
    )
    sel = lambda *p: float(place.sel(placement_type=list(p)).sum())  # noqa: E731
    rows += [
        Row(
            "placement_foster_all",
            "Placed in foster care (all)",
            tv["placement_foster_all"] / tv["cla_stock"],
            sel("kinship_foster", "in_house_foster", "ifa_foster") / cic,
            "share of stock",
            "share",
            "DfE 2024",
        ),
        Row(
            "placement_childrens_homes_and_secure",
            "Children's homes and secure",
            tv["placement_childrens_homes_and_secure"] / tv["cla_stock"],
            sel("la_home", "private_home", "secure") / cic,
            "share of stock",
            "share",
            "DfE 2024",
        ),
        Row(
            "placement_independent_supported_accommodation",
            "Supported accommodation",
            tv["placement_independent_supported_accommodation"] / tv["cla_stock"],
            sel("supported_accommodation") / cic,
            "share of stock",
            "share",
            "DfE 2024 (FOI Sep 2024: 9.8%)",
        ),
        Row(
            "placement_with_parents",
            "Placed with parents",
            tv["placement_with_parents"] / tv["cla_stock"],
            sel("with_parents") / cic,
            "share of stock",
            "share",
            "DfE 2024",
        ),
        Row(
            "placement_for_adoption",
            "Placed for adoption",
            tv["placement_for_adoption"] / tv["cla_stock"],
            sel("placed_for_adoption") / cic,
            "share of stock",
            "share",
            "DfE 2024",
        ),
        Row(
            "placement_other",
            "Other settings",
            tv["placement_other"] / tv["cla_stock"],
            sel("other_setting") / cic,
            "share of stock",
            "share",
            "DfE 2024",
        ),
        Row(
            "share_of_cla_unregulated",
            "Unregistered / emergency (waiting)",
            tv["share_of_cla_unregulated"],
            sel("unregistered") / cic,
            "share of stock",
            "share",
            "FOI Sep 2024",
        ),
        Row(
            "share_of_cla_in_house_fostering",
            "In-house foster care",
            tv["share_of_cla_in_house_fostering"],
            sel("in_house_foster") / cic,
            "share of stock",
            "share",
            "FOI Sep 2024",
        ),
        Row(
            "share_of_cla_ifa_fostering",
            "IFA foster care",
            tv["share_of_cla_ifa_fostering"],
            sel("ifa_foster") / cic,
            "share of stock",
            "share",
            "FOI Sep 2024",
        ),
        Row(
            "share_of_cla_kinship_fostering",
            "Kinship foster care",
            tv["share_of_cla_kinship_fostering"],
            sel("kinship_foster") / cic,
            "share of stock",
            "share",
            "FOI Sep 2024",
        ),
        Row("uasc_stock", "UASC in care", tv["uasc_stock"], float(end["uasc"]), "children", "count"),
    ]
    carers = end["carers"]
    fplaces = end["foster_places"]
    rows += [
        Row(
            "fostering_households_mainstream",
            "Mainstream fostering households",
            tv["fostering_households_mainstream"],
            float(carers.sel(carer_kind=["in_house", "ifa"]).sum()),
            "households",
            "count",
        ),
        Row(
            "fostering_households_kinship",
            "Kinship fostering households",
            tv["fostering_households_kinship"],
            float(carers.sel(carer_kind="kinship")),
            "households",
            "count",
        ),
        Row(
            "foster_places_approved",
            "Approved mainstream places",
            tv["foster_places_approved"],
            float(fplaces.sel(carer_kind=["in_house", "ifa"]).sum()),
            "places",
            "count",
        ),
        Row(
            "foster_places_filled_mainstream",
            "Filled mainstream places",
            tv["foster_places_filled_mainstream"],
            float(end["foster_places_filled"].sel(carer_kind=["in_house", "ifa"]).sum()),
            "places",
            "count",
        ),
        Row(
            "fostering_households_joined",
            "Mainstream households joined in the year",
            tv["fostering_households_joined"],
            float(flows["foster_approvals"].sel(carer_kind=["in_house", "ifa"]).sum()),
            "households",
            "count",
        ),
        Row(
            "fostering_households_left",
            "Mainstream households left in the year",
            tv["fostering_households_left"],
            float(flows["foster_deregistrations"].sel(carer_kind=["in_house", "ifa"]).sum()),
            "households",
            "count",
        ),
        Row(
            "childrens_homes",
            "Children's homes",
            tv["childrens_homes"],
            float(end["homes"].sel(home_kind=["la_home", "private_home"]).sum()),
            "homes",
            "count",
        ),
        Row(
            "childrens_homes_places",
            "Children's home places",
            tv["childrens_homes_places"],
            float(end["home_places"].sel(home_kind=["la_home", "private_home"]).sum()),
            "places",
            "count",
        ),
        Row(
            "secure_childrens_home_places",
            "Secure children's home places (welfare and youth justice)",
            tv["secure_childrens_home_places"],
            float(end["home_places"].sel(home_kind="secure")),
            "places",
            "count",
            "an input: DfE SA1 2023, 105 of them contracted to youth justice",
        ),
        Row(
            "placement_changes_in_year",
            "Placement moves in the year",
            tv["placement_changes_in_year"] * 0.82,
            float(flows["moves"].sum()),
            "moves",
            "count",
            "66,070 changes less 18% status-only changes",
        ),
    ]
    weeks = _child_weeks(year1)
    spend = flows["spend"]
    price = lambda p: float(spend.sel(placement_type=p) / weeks.sel(placement_type=p))  # noqa: E731
    rows += [
        Row(
            "price_ifa_week",
            "IFA price per child-week (2024 prices)",
            tv["price_ifa_week"] * 1.195,
            price("ifa_foster"),
            "GBP/week",
            "count",
            "CMA GBP 820 in 2020-21 x 1.195 CPI",
        ),
        Row(
            "price_childrens_home_week_2024",
            "Private children's home price per child-week",
            tv["price_childrens_home_week_2024"],
            price("private_home"),
            "GBP/week",
            "count",
            "CCN 2024, range 5,500-6,100",
        ),
        Row(
            "cost_in_house_foster_week",
            "In-house foster cost per child-week (2024 prices)",
            tv["cost_in_house_foster_week"] * 1.3,
            price("in_house_foster"),
            "GBP/week",
            "count",
            "PSSRU GBP 646 in 2017 x 1.3 CPI",
        ),
    ]
    return rows


def format_table(rows: list[Row]) -> str:
    lines = [f"{'target':48s} {'published':>12s} {'model':>12s} {'diff':>9s}  unit / note", "-" * 110]
    for r in rows:
        fmt = "{:12.3f}" if r.kind == "share" else "{:12,.0f}"
        d = f"{r.diff:+7.1f}pp" if r.kind == "share" else f"{r.diff:+7.1f}% "
        lines.append(
            f"{r.label[:48]:48s} {fmt.format(r.published)} {fmt.format(r.model)} {d:>9s}  {r.unit}"
            + (f"; {r.note}" if r.note else "")
        )
    return "\n".join(lines)


def untuned(ds: xr.Dataset) -> list[tuple[str, float, str, str]]:
    """Measures the model was not fitted to, for its first year: (label, model value, unit,
    published reference or why there is none). Judge the model on these."""
    tv = {k: v["value"] for k, v in load_targets().items()}
    year1 = ds.isel(time=slice(0, 52))
    end = year1.isel(time=-1).sum("la")
    spend = year1["spend"].sum(("time", "la"))
    fostering = float(spend.sel(placement_type=["kinship_foster", "in_house_foster", "ifa_foster"]).sum())
    residential = float(spend.sel(placement_type=["la_home", "private_home", "secure"]).sum())
    ann = ds.isel(year=0).sum("la")
    cla = "not in the shipped data; DfE CLA national tables publish it"
    return [
        (
            "Placed more than 20 miles from home",
            float(end["over_20_miles"] / end["located"]),
            "share",
            cla + " (distance from home)",
        ),
        (
            "Placed outside the home LA",
            float(end["outside_la"] / end["located"]),
            "share",
            cla + " (placed outside the LA boundary)",
        ),
        (
            "3+ placements in the year",
            float(ann["three_plus_placements"] / ann["children_in_care_31mar"]),
            "share",
            cla + " (placement stability)",
        ),
        (
            "Long-term stability (under 16, 2.5y+ in care, 2y+ same placement)",
            float(ann["long_term_stable"] / ann["long_term_eligible"]),
            "share",
            cla + " (placement stability)",
        ),
        (
            "Placement spend in the year",
            float(spend.sum()) / 1e9,
            "GBP bn (2024 prices)",
            "not in the shipped data; DfE LA expenditure (section 251 outturn) has CLA spend",
        ),
        ("  of which fostering (kinship, in-house, IFA)", fostering / float(spend.sum()), "share", "as above"),
        ("  of which children's homes and secure", residential / float(spend.sum()), "share", "as above"),
        (
            "High-cost placements (GBP 10k+ a week) at 31 March",
            float(end["high_cost"]),
            "children",
            "not in the shipped data; LGA/CCN surveys of high-cost placements",
        ),
        (
            "No lawful placement (secure tier, unregistered), mean",
            float(year1["no_lawful_placement"].sum("la").mean()),
            "children",
            f"{tv['secure_welfare_shortfall']:.0f} a day (Re X [2023] EWHC 129 (Fam))",
        ),
    ]


def format_untuned(rows: list[tuple[str, float, str, str]]) -> str:
    lines = [f"{'not fitted to':66s} {'model':>10s}  unit; published", "-" * 110]
    for label, value, unit, ref in rows:
        lines.append(f"{label[:66]:66s} {value:10.3f}  {unit}; {ref}")
    return "\n".join(lines)
