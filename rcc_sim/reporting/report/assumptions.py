"""What the model assumes: settings that differ from the defaults, each scenario's RCCs and
levers, and every parameter with its unit and source (unsourced ones flagged)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from rcc_sim.config import ASSUMPTION, Config, parameter_table
from rcc_sim.reporting import plots
from rcc_sim.reporting.report.loading import Results, Study
from rcc_sim.reporting.report.page import Page, esc, html_table


def _short(v: Any, n: int = 70) -> str:
    if isinstance(v, float):
        s = f"{v:,.0f}" if abs(v) >= 10_000 and v == int(v) else f"{v:g}"
    else:
        s = json.dumps(v) if isinstance(v, (list, dict)) else str(v)
    return s if len(s) <= n else s[: n - 3] + "..."


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def no_source(source: str) -> bool:
    """True when the value has no published source: marked ASSUMPTION (anywhere in the source)."""
    return ASSUMPTION in source


def _lever_rows(cfg: Config, la_names: dict[str, str]) -> list[dict[str, Any]]:
    """Every RCC of the policy: its members and each lever with unit and source
    (:func:`rcc_sim.config.parameter_table` does not walk the dict of RCCs)."""
    rows = []
    for name, rcc in cfg.policy.rccs.items():
        who = (
            f"{len(rcc.members)} LAs: " + ", ".join(la_names.get(c, c) for c in rcc.members)
            if rcc.members
            else f"every LA in {rcc.region}"
        )
        rows.append(
            {
                "key": f"policy.rccs.{name}.members",
                "value": who,
                "unit": "LAs",
                "source": "policy file",
                "assumption": False,
            }
        )
        for f in dataclasses.fields(rcc):
            if "unit" in f.metadata:
                rows.append(
                    {
                        "key": f"policy.rccs.{name}.{f.name}",
                        "value": getattr(rcc, f.name),
                        "unit": f.metadata["unit"],
                        "source": f.metadata["source"],
                        "assumption": no_source(f.metadata["source"]),
                    }
                )
            elif f.name not in ("members", "region"):
                rows.append(
                    {
                        "key": f"policy.rccs.{name}.{f.name}",
                        "value": getattr(rcc, f.name),
                        "unit": "switch",
                        "source": "policy lever (on/off)",
                        "assumption": False,
                    }
                )
    return rows


def section_assumptions(page: Page, study: Study, res: Results) -> None:
    page.h2("assumptions", "What the model assumes")
    page.p(
        "rcc-sim starts from published aggregate statistics for 31 March 2024 (DfE children looked after, Ofsted "
        "fostering and children's homes data, CMA market study, ONS geography; no child-level data). Every "
        "parameter has a unit and a source. Where the source says 'no published source', the value is the "
        "modellers' assumption: results depend on it, and sensitivity studies should vary it."
    )
    base_cfg = study.config_of(study.baseline or study.scenarios[0])
    if base_cfg is None:
        errs = "; ".join(r.config_error for r in study.runs if r.config_error) or "no config.yaml found"
        page.raw(
            f'<p class="caveat">The configuration of the runs could not be read ({esc(errs)}); the table below '
            "shows this version's defaults, which may differ from what was run.</p>"
        )
        base_cfg = Config()
    defaults = _flatten(dataclasses.asdict(Config()))
    base_flat = _flatten(dataclasses.asdict(base_cfg))
    skip = ("seed", "policy.name", "policy.description")
    changed = {
        k: v
        for k, v in base_flat.items()
        if k not in skip and not k.startswith("policy.rccs.") and defaults.get(k, object()) != v
    }
    first = plots.label(study.baseline or study.scenarios[0]).lower()
    page.raw(f"<h3>Settings that differ from the defaults ({esc(first)})</h3>")
    if changed:
        page.raw(
            html_table(
                ["Setting", "Value", "Default"],
                [[k, _short(v), _short(defaults.get(k, "(none)"))] for k, v in sorted(changed.items())],
                cls="settings",
            )
        )
    else:
        page.p("None: every parameter is at its default.")
    for s in study.scenarios:
        cfg = study.config_of(s)
        if cfg is None or cfg is base_cfg:
            continue
        flat = _flatten(dataclasses.asdict(cfg))
        diff = {
            k: v
            for k, v in flat.items()
            if k not in skip and not k.startswith("policy.rccs.") and base_flat.get(k, object()) != v
        }
        page.raw(f"<h3>{esc(plots.label(s))}: what it changes</h3>")
        if diff:
            page.raw(
                html_table(
                    ["Setting", "Value", plots.label(study.baseline or study.scenarios[0])],
                    [[k, _short(v), _short(base_flat.get(k, "(none)"))] for k, v in sorted(diff.items())],
                    cls="settings",
                )
            )
        levers = _lever_rows(cfg, res.la_names)
        if levers:
            flagged = sum(r["assumption"] for r in levers)
            page.p(f"Its RCCs and their levers ({flagged} of {len(levers)} values have no published source):")
            page.raw(_param_table(levers))
        elif not diff:
            page.p("Nothing: it has the same settings.")
    rows = parameter_table(base_cfg)
    for r in rows:
        r["assumption"] = no_source(r["source"])
    flagged = sum(r["assumption"] for r in rows)
    page.raw(f"<h3>Every model parameter ({esc(plots.label(study.baseline or study.scenarios[0]).lower())})</h3>")
    page.p(f"{len(rows)} parameters, of which {flagged} have no published source (highlighted).")
    page.raw(_param_table(rows))
    page.end()


def _source_cell(r: dict[str, Any]) -> str:
    src = str(r["source"])
    if not r["assumption"]:
        return esc(src)
    rest = (
        src[len(ASSUMPTION) :].strip(" :;,-") if src.startswith(ASSUMPTION) else src.replace(ASSUMPTION, "assumption")
    )
    return "<strong>No published source.</strong> " + esc(rest[:1].upper() + rest[1:] if rest else "")


def _param_table(rows: list[dict[str, Any]]) -> str:
    body = [
        [
            esc(r["key"]).replace(".", ".<wbr>").replace("_", "_<wbr>"),
            esc(_short(r["value"], 400 if r["key"].endswith(".members") else 60)),
            esc(r["unit"]),
            _source_cell(r),
        ]
        for r in rows
    ]
    return html_table(
        ["Parameter", "Value", "Unit", "Source"],
        body,
        cls="params",
        escape=False,
        row_classes=["flag" if r["assumption"] else "" for r in rows],
    )
