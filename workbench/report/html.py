"""One report document, two renderings: interactive HTML and a PDF printed from HTML.

:func:`report_document` turns the sections of :mod:`workbench.report_render`
(lists of blocks) into one HTML page. With ``interactive=True`` (report.html)
the figures that have a Plotly twin are interactive, plotly.js is inlined once
and the dose slider is added; with ``interactive=False`` the same text, tables
and static figures (PNG from matplotlib) are laid out for print, and
:func:`write_pdf` renders that page with WeasyPrint (report.pdf). Tables are
real tables that wrap instead of clipping, with units in their headers
(:func:`display_table`); the PDF has a table of contents with page numbers,
keeps each figure with its heading and caption, and repeats the "indicative
only" banner of a reduced run on every page.
"""

from __future__ import annotations

import base64
import html
import logging
import math
from pathlib import Path

import pandas as pd

from workbench.errors import MissingDependencyError

__all__ = ["display_table", "report_document", "weasyprint_problem", "write_pdf"]

log = logging.getLogger(__name__)

#: dimensionless columns: "[-]" in the header
_DIMENSIONLESS = ("occupancy", "occupancy_lower", "occupancy_upper", "fold_from_previous",
                  "probability", "ci_low", "ci_high", "steepness_ratio", "hill", "slope",
                  "interval_overlap", "p_exceed_median")
#: unit column -> the value columns it belongs to (besides the prefix rule of _unit_targets)
_UNIT_OF = {"amount_unit": ("dose",)}


def _unit_targets(df: pd.DataFrame, ucol: str) -> list[str]:
    """The value columns a unit column belongs to: its stem and the stem's percentiles
    (``exposure_unit`` -> ``exposure``, ``exposure_lower``, ``exposure_upper``)."""
    stems = _UNIT_OF.get(ucol, (ucol[:-len("_unit")],))
    names = {st + sfx for st in stems for sfx in ("", "_lower", "_median", "_upper")}
    return [c for c in df.columns if c in names]


def display_table(df: pd.DataFrame) -> pd.DataFrame:
    """The table as the report shows it: a unit column with one value moves into the header
    of its value columns (``exposure [nM]``), dimensionless columns get ``[-]``, underscores
    become spaces (headers wrap), floats get 4 significant digits."""
    out = df.copy()
    ren: dict[str, str] = {}
    drop = []
    for ucol in [c for c in out.columns if str(c).endswith("_unit")]:
        vals = out[ucol].dropna().astype(str).unique()
        targets = _unit_targets(out, ucol)
        if len(vals) == 1 and targets:
            for c in targets:
                ren[c] = f"{c} [{vals[0] or '-'}]"
            drop.append(ucol)
    for c in out.columns:
        if c in _DIMENSIONLESS and c not in ren:
            ren[c] = f"{c} [-]"
    out = out.drop(columns=drop).rename(columns=ren)
    out.columns = [str(c).replace("_", " ") for c in out.columns]
    return out.map(lambda v: f"{v:.4g}" if isinstance(v, float) and math.isfinite(v) else
                   ("" if isinstance(v, float) else v))


#: tables with at least this many columns print on a landscape page
_WIDE = 12

_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1150px;margin:auto;
padding:1em;font-size:14px;line-height:1.35}
table{border-collapse:collapse;font-size:11px;margin:.5em 0}
td,th{border:1px solid #bbb;padding:2px 5px;text-align:left;vertical-align:top}
th{background:#eee}img,svg{max-width:100%;height:auto}
pre{font-size:11px;background:#f6f6f6;padding:.5em;white-space:pre-wrap}
h2{border-bottom:2px solid #468;margin-top:1.6em}
.banner{background:#fff3cd;border:2px solid #d39e00;padding:.6em 1em;font-weight:bold}
.summary{background:#f2f7fb;border:1px solid #468;padding:.4em 1em}
.summary dt{font-weight:bold;margin-top:.5em}.summary dd{margin-left:1.2em}
.dose{font-size:1.35em;font-weight:bold}
.gap{color:#a00;font-weight:bold}.note{font-size:12px;color:#444}
.toc-title{font-size:1.4em;font-weight:bold;border-bottom:2px solid #468;margin-top:1em}
nav.toc ul{list-style:none;padding-left:1em}nav.toc li{margin:.15em 0}
.slider-box{border:1px solid #bbb;padding:.6em;margin:.8em 0}
figure{margin:.6em 0}
"""

_PRINT_CSS = """
@page{size:A4;margin:16mm 12mm 16mm 12mm;
 @bottom-right{content:"page " counter(page) " of " counter(pages);font-size:8pt;color:#666;
  font-family:"DejaVu Sans",sans-serif}
 @bottom-left{content:string(doctitle);font-size:8pt;color:#666;
  font-family:"DejaVu Sans",sans-serif}}
section#summary + nav.toc + section{break-before:page}
body{max-width:none;padding:0;font-size:9.5pt}
h1{string-set:doctitle content();font-size:17pt}
h2{font-size:13pt;break-after:avoid;page-break-after:avoid}
table{width:100%;font-size:7pt;table-layout:auto}
th,td{overflow-wrap:break-word;padding:1px 3px}
thead{display:table-header-group}tr{break-inside:avoid}
pre{font-size:7pt}
figure,.keep{break-inside:avoid;page-break-inside:avoid}
figure img,figure svg{max-height:235mm}
@page wide{size:A4 landscape}
.wide{page:wide}.wide table{font-size:7.5pt}
nav.toc a{color:black;text-decoration:none}
nav.toc a::after{content:leader('.') target-counter(attr(href), page)}
nav.toc{break-before:page}
"""


def _summary_html(sm) -> str:
    out = ["<dl>"]
    out.append(f"<dt>Proposed first-in-human starting dose</dt><dd class='dose'>"
               f"{html.escape(sm.dose_text())}</dd>")
    out.append(f"<dt>Basis</dt><dd>{html.escape(sm.basis)}</dd>")
    if math.isfinite(sm.margin):
        steps = "; ".join(f"{r['step']} {r['factor']:.3g}x" for _, r in sm.margin_steps.iterrows())
        out.append(f"<dt>Cumulative safety margin</dt><dd>{sm.margin:.3g}-fold below "
                   f"{html.escape(sm.margin_reference)} (product of every cautionary step: "
                   f"{html.escape(steps)})</dd>")
    else:
        out.append("<dt>Cumulative safety margin</dt><dd>not defined (no starting dose or no "
                   "QSP MABEL)</dd>")
    out.append("<dt>Minimal effect reached at the starting dose</dt><dd>"
               + ("<br>".join(html.escape(x) for x in sm.reach) or "not computed (no samples)")
               + "</dd>")
    out.append("<dt>Model-risk gaps (required analyses not done)</dt><dd>"
               + (", ".join(f"<span class='gap'>{html.escape(g)}</span>" for g in sm.gaps)
                  or "none: every analysis required at this risk level was done") + "</dd>")
    out.append("</dl>")
    return "".join(out)


def _banner(sm) -> str:
    if not sm.reduced:
        return ""
    return ("<div class='banner' id='quick-banner'>INDICATIVE ONLY (--quick): "
            f"{html.escape(sm.reduced)}. Rerun without --quick before using any number.</div>")


def _png_tag(png: bytes, alt: str) -> str:
    return (f"<img alt='{html.escape(alt, quote=True)}' src='data:image/png;base64,"
            f"{base64.b64encode(png).decode()}'>")


def report_document(run, sections, blocks: dict, figs: dict, summary, *, interactive: bool,
                    twins: dict | None = None, head_script: str = "") -> str:
    """The report as one HTML page.

    Parameters
    ----------
    run
        The :class:`workbench.study.pipeline.MabelRun`.
    sections
        (id, heading) of every section, in order; the first is the decision summary.
    blocks
        Section id -> blocks (:func:`workbench.report.render._sections`).
    figs
        id(matplotlib figure) -> PNG bytes.
    summary
        :class:`workbench.report.summary.DecisionSummary`.
    interactive
        Interactive figures and the slider (report.html) or print layout (PDF source).
    twins
        id(matplotlib figure) -> HTML of its interactive twin (used when ``interactive``).
    head_script
        ``<script>`` for the head (plotly.js, inlined once).
    """
    st = run.study
    title = st.data.get("title") or st.name
    css = _CSS + ("" if interactive else _PRINT_CSS)
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>MABEL report: "
           f"{html.escape(st.name)}</title><style>{css}</style>"
           + (head_script if interactive else "") + "</head><body>",
           f"<h1>First-in-human starting dose: {html.escape(title)}</h1>"]
    toc = ("<nav class='toc'><div class='toc-title'>Contents</div><ul>"
           + "".join(f"<li><a href='#{k}'>{html.escape(t)}</a></li>" for k, t in sections)
           + "</ul></nav>")
    twins = twins or {}
    for n, (k, heading) in enumerate(sections):
        out.append(f"<section id='{k}'><h2>{html.escape(heading)}</h2>")
        items = blocks[k]
        for j, (kind, b) in enumerate(items):
            nxt = items[j + 1][0] if j + 1 < len(items) else None
            if kind == "summary":
                out.append(_banner(b) + f"<div class='summary'>{_summary_html(b)}</div>")
            elif kind == "p":
                p = f"<p>{html.escape(b)}</p>"
                out.append(f"<div class='keep'>{p}" if nxt in ("fig", "svg") else p)
            elif kind == "list":
                out.append("<ol>" + "".join(f"<li>{html.escape(str(x))}</li>" for x in b) + "</ol>")
            elif kind == "pre":
                out.append("<pre>" + html.escape("\n".join(b)) + "</pre>")
            elif kind == "table":
                t = display_table(b)
                tab = t.to_html(index=False, na_rep="", escape=True, border=0)
                # a wide table gets a landscape page in print: columns wrap, none is cut
                out.append(f"<div class='wide'>{tab}</div>" if len(t.columns) >= _WIDE else tab)
            elif kind in ("fig", "svg"):
                if kind == "svg":
                    body = b
                elif interactive and id(b) in twins:
                    body = twins[id(b)]
                else:
                    body = _png_tag(figs[id(b)], k)
                close = "</div>" if j > 0 and items[j - 1][0] == "p" else ""
                out.append(f"<figure>{body}</figure>{close}")
            elif kind == "interactive":
                if interactive:
                    out.append(b)
        out.append("</section>")
        if n == 0:
            out.append(toc)
    out.append("</body></html>")
    return "\n".join(out)


def weasyprint_problem() -> str | None:
    """Why WeasyPrint cannot render here (missing package or system library), or None."""
    try:
        import weasyprint  # noqa: F401
    except Exception as exc:  # ImportError, or OSError for a missing pango
        return (f"WeasyPrint cannot be loaded ({type(exc).__name__}: {exc}). Install the "
                "Python package (pip install weasyprint) and its system libraries (Debian: "
                "apt-get install libpango-1.0-0 libpangoft2-1.0-0; scripts/_setup.sh does this "
                "when run as root)")
    return None


def write_pdf(document: str, path: str | Path) -> None:
    """Render the print-layout HTML ``document`` to ``path`` with WeasyPrint.

    Raises
    ------
    MissingDependencyError
        When WeasyPrint or its system libraries are missing (exit code 2).
    """
    why = weasyprint_problem()
    if why is not None:
        raise MissingDependencyError(why, element="report.pdf")
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    HTML(string=document).write_pdf(str(path))
