"""Provenance: the runs behind the report (code, data, packages) and the commands that
reproduce them."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from rcc_sim.reporting.report.loading import Study
from rcc_sim.reporting.report.page import Page, esc, html_table


def reproduce_commands(study: Study) -> list[str]:
    """The commands that rerun the study's runs (one per distinct command)."""
    out: list[str] = []
    for r in study.runs:
        argv = r.manifest.get("command") or []
        prog = Path(argv[0]).name if argv else ""
        if prog in ("rcc-sim", "rcc-sim-compare"):
            args = [a for a in argv[1:] if not a.startswith(("hydra.run.dir=", "hydra.sweep.dir="))]
            cmd = " ".join([prog] + [shlex.quote(a) for a in args])
        else:
            cmd = f"rcc-sim --config-path {shlex.quote(str(r.path.resolve()))} --config-name config"
        if cmd not in out:
            out.append(cmd)
    return out


def section_provenance(page: Page, study: Study, out_path: Path) -> None:
    page.h2("provenance", "Provenance and how to reproduce")
    rows, commits, checks, versions = [], set(), set(), set()
    for r in study.runs:
        m = r.manifest
        git = m.get("git") or {}
        commits.add(git.get("commit"))
        checks.add(json.dumps(m.get("data_checksums"), sort_keys=True))
        versions.add(json.dumps(m.get("packages"), sort_keys=True))
        years = r.config.sim.years if r.config else (m.get("config") or {}).get("sim", {}).get("years", "?")
        try:
            rel = r.path.resolve().relative_to(out_path.parent.resolve())
        except ValueError:
            rel = r.path
        rows.append(
            [
                r.policy,
                r.seed,
                m.get("world", "?"),
                years,
                (m.get("packages") or {}).get("rcc-sim", "?"),
                (git.get("commit") or "unknown")[:12],
                {True: "YES", False: "no"}.get(git.get("dirty"), "unknown"),
                f"{m['wall_seconds']:.1f}" if isinstance(m.get("wall_seconds"), (int, float)) else "?",
                str(rel) or ".",
            ]
        )
    if study.ds is not None:
        page.p(f"{len(study.runs)} run{'s' if len(study.runs) != 1 else ''} went into this report:")
    page.raw(
        html_table(
            [
                "Policy",
                "Seed",
                "World",
                "Years",
                "rcc-sim",
                "Git commit",
                "Uncommitted changes",
                "Run time (s)",
                "Directory",
            ],
            rows,
            numeric={1, 3, 7},
        )
    )
    warn = []
    if any(r[6] == "YES" for r in rows):
        warn.append(
            "At least one run was made from code with uncommitted changes: the git commit alone does not "
            "reproduce it exactly."
        )
    if len(commits) > 1:
        warn.append("The runs were made from different code versions (git commits); compare them with care.")
    if len(checks) > 1:
        warn.append("The runs used different data files (checksums differ); compare them with care.")
    if len(versions) > 1:
        warn.append("The runs used different package versions.")
    for w in warn:
        page.raw(f'<p class="caveat">{esc(w)}</p>')
    first = study.runs[0].manifest if study.runs else {}
    if first.get("packages"):
        page.raw("<h3>Software</h3>")
        page.raw(html_table(["Package", "Version"], [[k, v] for k, v in first["packages"].items()]))
    if first.get("data_checksums"):
        page.raw("<h3>Data files (SHA-256)</h3>")
        page.raw(
            html_table(["File", "SHA-256"], [[k, f"{v}"] for k, v in first["data_checksums"].items()], cls="small")
        )
    page.raw("<h3>How to reproduce</h3>")
    commit = next((c for c in commits if c), None)
    steps = []
    if commit:
        steps.append(f"git checkout {commit}")
    steps.append("python3 -m pip install -e .")
    steps += reproduce_commands(study)
    steps.append(f"rcc-sim-report {shlex.quote(str(study.path))}")
    page.p("From a clone of the rcc-sim repository (the same commit and seed give the same numbers, bit for bit):")
    page.raw("<pre>" + esc("\n".join(steps)) + "</pre>")
    page.p(
        "Each run directory holds results.nc (every output variable with its units and definition), config.yaml "
        "(the full resolved configuration) and manifest.json (seed, package versions, git commit, data checksums, "
        "command line)."
    )
    cfg_text = next((r.config_text for r in study.runs if r.config_text), "")
    if cfg_text:
        page.raw(
            f"<details><summary>Full configuration of the first run (config.yaml)</summary>"
            f'<pre class="small">{esc(cfg_text)}</pre></details>'
        )
    page.end()
