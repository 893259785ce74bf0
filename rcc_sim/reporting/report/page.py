"""The page: its style sheet, HTML helpers, :class:`Page`, which collects the sections, their
figures (embedded PNGs) and the contents list, and :func:`document`, the whole HTML page around
them (shared by the report, the validation page, the workbench and the decision page)."""

from __future__ import annotations

import base64
import datetime as dt
import html
import time
from typing import Any

from rcc_sim.reporting import plots

CSS = """
:root { --ink: #1b1b1b; --muted: #555; --rule: #ccc; --band: #f3f3f3; --warn: #8a4b00; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
       color: var(--ink); margin: 0; background: #fff; font-size: 16px; line-height: 1.5; }
main { max-width: 7.6in; margin: 0 auto; padding: 24px 18px 48px; }
h1 { font-size: 1.7em; line-height: 1.2; margin: 0.2em 0 0.3em; }
h2 { font-size: 1.3em; border-bottom: 2px solid var(--ink); padding-bottom: 2px; margin-top: 1.8em; }
h3 { font-size: 1.1em; margin-top: 1.4em; }
p, li { max-width: 42em; }
.lede { font-size: 1.1em; }
.caveat { border-left: 5px solid var(--warn); background: #fff6e8; padding: 8px 12px; }
.noise { color: var(--muted); }
nav ol { columns: 2; column-gap: 3em; padding-left: 1.6em; margin: 0.4em 0; }
nav li { break-inside: avoid; }
figure { margin: 1em 0 1.6em; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: var(--muted); margin-top: 4px; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.85em; width: 100%; }
th, td { border-bottom: 1px solid var(--rule); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: var(--band); }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.effects td:first-child, table.levels td:first-child { width: 34%; }
table.areas td:first-child { width: 22%; }
table.areas td.n { white-space: normal; }
table.areas tr.member td:first-child { padding-left: 1.6em; }
.range { font-size: 0.85em; color: var(--muted); }
table.params td:nth-child(1) { width: 28%; }
table.params td:nth-child(2) { width: 16%; overflow-wrap: anywhere; }
table.params td:nth-child(3) { width: 20%; }
.key { overflow-wrap: anywhere; }
table.settings td { overflow-wrap: anywhere; }
.kicker { color: var(--muted); margin: 0; font-size: 0.9em; }
details summary { cursor: pointer; color: var(--muted); }
tr.flag td { background: #fff6e8; }
code, pre { font-family: "DejaVu Sans Mono", Consolas, "Liberation Mono", monospace; font-size: 0.85em; }
pre { background: var(--band); padding: 8px; white-space: pre-wrap; word-break: break-all; }
.small { font-size: 0.8em; }
footer { margin-top: 3em; font-size: 0.85em; color: var(--muted); }
@page { size: A4; margin: 15mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  figure, .keep, table.short, .caveat { break-inside: avoid; page-break-inside: avoid; }
  tr, li { break-inside: avoid; page-break-inside: avoid; }
  figure img { max-height: 9.2in; width: auto !important; max-width: 100%; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"""


def esc(x: Any) -> str:
    return html.escape(str(x))


def html_table(
    head: list[str],
    rows: list[list[str]],
    numeric: set[int] = frozenset(),
    cls: str = "",
    row_classes: list[str] | None = None,
    escape: bool = True,
) -> str:
    """An HTML table; cells are escaped unless ``escape`` is False (then they are trusted HTML)."""
    f = esc if escape else str
    cls_attr = f' class="{cls}"' if cls else (' class="short"' if len(rows) <= 25 else "")
    out = [f"<table{cls_attr}><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for i, r in enumerate(rows):
        rc = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        out.append(
            f"<tr{rc}>"
            + "".join(f'<td class="n">{f(c)}</td>' if j in numeric else f"<td>{f(c)}</td>" for j, c in enumerate(r))
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


class Page:
    """Collects sections and figures; keeps a contents list."""

    def __init__(self, keep: list | None = None) -> None:
        self.parts: list[str] = []
        self.toc: list[tuple[str, str]] = []
        self.n_fig = 0
        self.keep = keep  # if a list, figures are appended to it (for checks) instead of closed

    def h2(self, anchor: str, title: str) -> None:
        self.toc.append((anchor, title))
        self.parts.append(f'<section id="{anchor}"><h2>{esc(title)}</h2>')

    def end(self) -> None:
        self.parts.append("</section>")

    def p(self, text: str, cls: str = "") -> None:
        self.parts.append(f"<p{f' class={chr(34)}{cls}{chr(34)}' if cls else ''}>{esc(text)}</p>")

    def raw(self, s: str) -> None:
        self.parts.append(s)

    def figure(self, make, alt: str, caption: str) -> None:
        """Add the figure ``make()`` draws; a figure needing a variable the results lack (made by
        an older rcc-sim) is replaced by a sentence saying so."""
        try:
            fig = make()
        except KeyError as exc:
            if "No variable named" not in str(exc):
                raise
            self.p(
                f"(A chart is missing here: it needs the variable {exc}, which these results do not have; "
                "they were probably made by an older version of rcc-sim.)"
            )
            return
        self.n_fig += 1
        data = base64.b64encode(plots.png(fig)).decode("ascii")
        w_in = fig.get_figwidth()
        self.parts.append(
            f'<figure id="figure-{self.n_fig}"><img src="data:image/png;base64,{data}" alt="{esc(alt)}" '
            f'style="width:{w_in:.2f}in"><figcaption><strong>Figure {self.n_fig}.</strong> '
            f"{esc(caption)}</figcaption></figure>"
        )
        if self.keep is not None:
            self.keep.append((f"figure-{self.n_fig}", fig))


def document(
    page: Page,
    title: str,
    kicker: str,
    caveat: str,
    started: float,
    *,
    head_title: str | None = None,
    lede: str = "",
    header_extra: str = "",
    extra_css: str = "",
    footer_note: str = "",
) -> str:
    """The self-contained HTML page: a header (kicker, title, lede, the caveat to read first and
    ``header_extra``, trusted HTML), the contents list, ``page``'s sections, and a footer saying when,
    by which rcc-sim and code commit, and in how long (from ``started``, a ``time.perf_counter()``)
    it was made, then ``footer_note``."""
    from rcc_sim.run import git_state, package_versions

    gen = git_state()
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    toc = "".join(f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t in page.toc)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(head_title or title)}</title><style>{CSS}{extra_css}</style></head><body><main>"
        f'<header><p class="kicker">{esc(kicker)}</p><h1>{esc(title)}</h1>'
        + (f'<p class="lede">{esc(lede)}</p>' if lede else "")
        + f'<p class="caveat"><strong>Read this first.</strong> {esc(caveat)}</p>{header_extra}</header>'
        f"<nav><strong>Contents</strong><ol>{toc}</ol></nav>"
        + "".join(page.parts)
        + f"<footer>Generated {esc(now)} by rcc-sim {esc(package_versions().get('rcc-sim', '?'))} "
        f"(code {esc((gen.get('commit') or 'unknown')[:12])}{' with uncommitted changes' if gen.get('dirty') else ''})"
        f" in {time.perf_counter() - started:.1f} s.{' ' + esc(footer_note) if footer_note else ''}"
        "</footer></main></body></html>\n"
    )
