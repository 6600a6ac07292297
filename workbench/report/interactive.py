"""Interactive figures of the HTML report: Plotly, embedded offline.

plotly.js is inlined once in the page head (:func:`plotly_script`), so the
report opens without a server or a network. Each figure hovers its values with
their units. The dose slider (:func:`slider_html`) steps through the doses of
the QSP MABEL grid and redraws the 5-95 % band of the time courses and the
distribution of the peak effect at that dose from the data of
:func:`workbench.mabel.dose_slider.dose_slider`, embedded as JSON. The PDF uses the
static matplotlib figures of :mod:`workbench.report_render` instead.
"""

from __future__ import annotations

import json
import math

import numpy as np

from workbench import columns as C

__all__ = ["dose_response_figure", "ladder_figure", "plotly_script", "profiles_figure",
           "slider_html", "to_div"]

_CONFIG = {"displaylogo": False, "responsive": True}


def plotly_script() -> str:
    """``<script>`` with the whole plotly.js (no network access at view time)."""
    from plotly.offline import get_plotlyjs

    return f"<script type='text/javascript'>{get_plotlyjs()}</script>"


def to_div(fig, div_id: str) -> str:
    """The figure as an HTML ``<div>`` that uses the page's plotly.js."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG)


def _unit(u: str) -> str:
    return u or "unitless"


def spans_decades(values, decades: float = 2.0) -> bool:
    """Whether the positive values span more than ``decades`` powers of ten (log axis)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    return len(v) > 1 and math.log10(v.max() / v.min()) > decades


def profiles_figure(profiles: dict):
    """Time courses at each dose, one panel per output; log y where values span decades."""
    from plotly.subplots import make_subplots

    first = next(iter(profiles.values()))
    outs = [c for c in first.columns if c != "time"]
    units = first.attrs.get("units", {})
    ncol = 2
    nrow = (len(outs) + 1) // 2
    fig = make_subplots(rows=nrow, cols=ncol, subplot_titles=outs, horizontal_spacing=0.12)
    tu = units.get("time", "")
    for k, o in enumerate(outs):
        r, c = k // ncol + 1, k % ncol + 1
        allv = []
        for j, (reg, df) in enumerate(profiles.items()):
            allv.append(df[o].to_numpy(float))
            fig.add_scatter(x=df["time"], y=df[o], row=r, col=c, mode="lines",
                            name=reg + (" (start)" if j == 1 else ""), legendgroup=reg,
                            showlegend=k == 0, line=dict(width=3 if j == 1 else 1.3),
                            hovertemplate=f"{reg}<br>time %{{x:.4g}} {tu}<br>{o} %{{y:.4g}} "
                                          f"{_unit(units.get(o, ''))}<extra></extra>")
        fig.update_xaxes(title_text=f"time [{tu}]", row=r, col=c)
        fig.update_yaxes(title_text=f"{o} [{_unit(units.get(o, ''))}]", row=r, col=c,
                         type="log" if spans_decades(np.concatenate(allv)) else "linear",
                         exponentformat="power")
    fig.update_layout(height=300 * nrow, margin=dict(t=40, b=40), legend=dict(font=dict(size=10)))
    return fig


def dose_response_figure(run):
    """Peak effect versus dose: nominal, 5-95 % band, threshold (with unit), MABEL, start."""
    from plotly.subplots import make_subplots

    dr = run.qsp.dose_response
    ests = run.qsp.estimates
    fig = make_subplots(rows=1, cols=len(ests), subplot_titles=[e.effect.label for e in ests])
    sd = run.decision.start_dose
    for k, e in enumerate(ests, 1):
        g = dr[dr[C.METRIC] == e.effect.metric]
        u, du = _unit(e.unit), e.dose_unit
        hov = f"dose %{{x:.4g}} {du}<br>{e.effect.metric} %{{y:.4g}} {u}"
        if g[C.LOWER].notna().any():
            fig.add_scatter(x=g[C.DOSE], y=g[C.UPPER], row=1, col=k, mode="lines",
                            line=dict(width=0), showlegend=False, name="95th percentile",
                            hovertemplate=hov + " (95th percentile)<extra></extra>")
            fig.add_scatter(x=g[C.DOSE], y=g[C.LOWER], row=1, col=k, mode="lines",
                            line=dict(width=0), fill="tonexty", fillcolor="rgba(31,119,180,0.25)",
                            name="5-95 % (uncertainty)", showlegend=k == 1,
                            hovertemplate=hov + " (5th percentile)<extra></extra>")
        fig.add_scatter(x=g[C.DOSE], y=g[C.NOMINAL], row=1, col=k, mode="lines+markers",
                        line=dict(color="black"), name="nominal", showlegend=k == 1,
                        hovertemplate=hov + " (nominal)<extra></extra>")
        # threshold, MABEL and start as line traces (named in the legend, hover with units):
        # Plotly's line annotations misplace text on log axes
        x0, x1 = float(g[C.DOSE].min()), float(g[C.DOSE].max())
        yv = g[[C.NOMINAL, C.LOWER, C.UPPER]].to_numpy(float)
        yv = yv[np.isfinite(yv)]
        y0, y1 = float(yv.min()), float(yv.max())
        fig.add_scatter(x=[x0, x1], y=[e.threshold] * 2, row=1, col=k, mode="lines",
                        line=dict(color="firebrick", dash="dash"),
                        name=f"threshold {e.threshold:.3g} {u} ({e.effect.label})",
                        hovertemplate=f"threshold {e.threshold:.4g} {u}<extra></extra>")
        if math.isfinite(e.dose):
            fig.add_scatter(x=[e.dose] * 2, y=[y0, y1], row=1, col=k, mode="lines",
                            line=dict(color="firebrick"),
                            name=f"QSP MABEL {e.dose:.3g} {du} ({e.effect.label})",
                            hovertemplate=f"QSP MABEL {e.dose:.4g} {du}<extra></extra>")
        if math.isfinite(sd):
            fig.add_scatter(x=[sd] * 2, y=[y0, y1], row=1, col=k, mode="lines",
                            line=dict(color="green", width=3), showlegend=k == 1,
                            name=f"starting dose {sd:.3g} {du}",
                            hovertemplate=f"starting dose {sd:.4g} {du}<extra></extra>")
        fig.update_xaxes(type="log", title_text=f"dose [{du}]", exponentformat="power", row=1,
                         col=k)
        fig.update_yaxes(title_text=f"{e.effect.metric} [{u}]", row=1, col=k,
                         type="log" if spans_decades(g[C.NOMINAL]) and (g[C.NOMINAL] > 0).all()
                         else "linear", exponentformat="power")
    fig.update_layout(height=460, margin=dict(t=50, b=40),
                      legend=dict(orientation="h", y=-0.25, font=dict(size=10)))
    return fig


def ladder_figure(lad):
    """Escalation ladder: exposure, occupancy and effect per level with 5-95 % error bars."""
    from plotly.subplots import make_subplots

    du = lad[C.DOSE_UNIT].iloc[0]
    panels = ((C.EXPOSURE, C.EXPOSURE_LOWER, C.EXPOSURE_UPPER, str(lad[C.EXPOSURE_UNIT].iloc[0])),
              (C.OCCUPANCY, C.OCCUPANCY_LOWER, C.OCCUPANCY_UPPER, "-"),
              (C.EFFECT, C.EFFECT_LOWER, C.EFFECT_UPPER, str(lad[C.EFFECT_UNIT].iloc[0])))
    fig = make_subplots(rows=1, cols=3, subplot_titles=[p[0] for p in panels])
    for k, (col, lo, hi, u) in enumerate(panels, 1):
        y = lad[col].astype(float)
        err = None
        if lad[lo].notna().any():
            err = dict(type="data", symmetric=False, array=(lad[hi].astype(float) - y).clip(0),
                       arrayminus=(y - lad[lo].astype(float)).clip(0))
        fig.add_scatter(x=lad[C.DOSE], y=y, error_y=err, mode="lines+markers", row=1, col=k,
                        showlegend=False, customdata=np.stack([lad[C.LADDER_LEVEL],
                                                               lad[lo], lad[hi]], axis=1),
                        hovertemplate=f"level %{{customdata[0]}}: dose %{{x:.4g}} {du}<br>"
                                      f"{col} %{{y:.4g}} {u} (5-95 %: %{{customdata[1]:.3g}}-"
                                      f"%{{customdata[2]:.3g}})<extra></extra>")
        fig.update_xaxes(type="log", title_text=f"dose [{du}]", exponentformat="power", row=1,
                         col=k)
        fig.update_yaxes(title_text=f"{col} [{u}]", row=1, col=k)
    fig.update_layout(height=360, margin=dict(t=50, b=40))
    return fig


def _round(a) -> list:
    """JSON-safe nested list with 4 significant digits (NaN -> null): a small page."""
    return [None if not np.isfinite(x) else float(f"{x:.4g}") for x in np.ravel(a)]


def slider_html(sl) -> str:
    """The dose slider (module docstring) for a :class:`workbench.mabel.dose_slider.DoseSlider`."""
    k0 = int(np.argmin(np.abs(np.log(sl.doses) - math.log(sl.start_dose)))) \
        if math.isfinite(sl.start_dose) and sl.start_dose > 0 else 0
    data = {"doses": _round(sl.doses), "unit": sl.dose_unit, "times": _round(sl.times),
            "time_unit": sl.time_unit, "outputs": list(sl.outputs),
            "units": {o: _unit(sl.units.get(o, "")) for o in sl.outputs},
            "bands": {o: [[_round(sl.bands[o][i, q]) for q in range(3)]
                          for i in range(len(sl.doses))] for o in sl.outputs},
            "effect": sl.effect, "effect_unit": _unit(sl.effect_unit),
            "effect_values": [_round(r) for r in sl.effect_values],
            "threshold": sl.threshold, "op": sl.op, "start": sl.start_dose, "n": sl.n_samples}
    payload = json.dumps(data, allow_nan=False).replace("</", "<\\/")
    return f"""<div class='slider-box'>
<label for='dose-slider'><b>Dose of the QSP MABEL grid:</b>
<span id='dose-value'></span></label><br>
<input type='range' id='dose-slider' min='0' max='{len(sl.doses) - 1}' step='1' value='{k0}'
 style='width:90%'>
<p class='note'>5-95 % band and median of each time course over the {sl.n_samples} samples of
the study at the chosen dose (log axes), and the distribution of {sl.effect} with the
minimal-effect threshold. The starting dose is the grid dose marked "(start)".</p>
<div id='slider-profile' style='height:{260 * ((len(sl.outputs) + 1) // 2)}px'></div>
<div id='slider-effect' style='height:300px'></div>
</div>
<script type='text/javascript'>
(function() {{
var D = {payload};
var s = document.getElementById('dose-slider');
function fmt(x) {{ return Number(x).toPrecision(3); }}
function traces(k) {{
  var tr = [];
  D.outputs.forEach(function(o, j) {{
    var ax = j === 0 ? '' : String(j + 1);
    var b = D.bands[o][k], u = D.units[o];
    var ht = o + ' %{{y:.4g}} ' + u + '<br>time %{{x:.4g}} ' + D.time_unit;
    tr.push({{x: D.times, y: b[2], mode: 'lines', line: {{width: 0}}, showlegend: false,
      xaxis: 'x' + ax, yaxis: 'y' + ax, hovertemplate: ht + ' (95th percentile)<extra></extra>'}});
    tr.push({{x: D.times, y: b[0], mode: 'lines', line: {{width: 0}}, fill: 'tonexty',
      fillcolor: 'rgba(31,119,180,0.3)', name: '5-95 %', showlegend: j === 0,
      xaxis: 'x' + ax, yaxis: 'y' + ax, hovertemplate: ht + ' (5th percentile)<extra></extra>'}});
    tr.push({{x: D.times, y: b[1], mode: 'lines', line: {{color: 'black'}}, name: 'median',
      showlegend: j === 0, xaxis: 'x' + ax, yaxis: 'y' + ax,
      hovertemplate: ht + ' (median)<extra></extra>'}});
  }});
  return tr;
}}
function layout() {{
  var n = D.outputs.length, ncol = 2, nrow = Math.ceil(n / ncol);
  var L = {{grid: {{rows: nrow, columns: ncol, pattern: 'independent'}},
           margin: {{t: 30, b: 45}}, annotations: []}};
  D.outputs.forEach(function(o, j) {{
    var ax = j === 0 ? '' : String(j + 1);
    L['xaxis' + ax] = {{type: 'log', title: {{text: 'time [' + D.time_unit + ']'}},
                        exponentformat: 'power'}};
    L['yaxis' + ax] = {{type: 'log', title: {{text: o + ' [' + D.units[o] + ']'}},
                        exponentformat: 'power'}};
  }});
  return L;
}}
function show(k) {{
  var d = D.doses[k];
  var start = (D.start !== null && Math.abs(Math.log(d / D.start)) ===
               Math.min.apply(null, D.doses.map(function(x) {{
                 return Math.abs(Math.log(x / D.start)); }})));
  document.getElementById('dose-value').textContent = fmt(d) + ' ' + D.unit +
    (start ? ' (start)' : '') + ' - grid dose ' + (k + 1) + ' of ' + D.doses.length;
  Plotly.react('slider-profile', traces(k), layout(), {{displaylogo: false, responsive: true}});
  var v = D.effect_values[k].filter(function(x) {{ return x !== null; }});
  var geq = D.op !== '<=';
  var above = v.filter(function(x) {{ return geq ? x >= D.threshold : x <= D.threshold; }}).length;
  Plotly.react('slider-effect', [{{x: v, type: 'histogram', marker: {{color: 'rebeccapurple'}},
      hovertemplate: D.effect + ' %{{x}} ' + D.effect_unit + ': %{{y}} samples<extra></extra>'}}],
    {{margin: {{t: 40, b: 45}}, title: {{text: 'distribution of ' + D.effect + ' at ' + fmt(d) +
       ' ' + D.unit + ': ' + above + ' of ' + v.length + ' samples reach the threshold (' +
       D.op + ' ' + fmt(D.threshold) + ')',
       font: {{size: 13}}}},
     xaxis: {{title: {{text: D.effect + ' [' + D.effect_unit + ']'}}}},
     yaxis: {{title: {{text: 'samples [count]'}}}},
     shapes: [{{type: 'line', x0: D.threshold, x1: D.threshold, yref: 'paper', y0: 0, y1: 1,
               line: {{color: 'firebrick', dash: 'dash'}}}}],
     annotations: [{{x: D.threshold, yref: 'paper', y: 1, text: 'threshold ' + fmt(D.threshold) +
                    ' ' + D.effect_unit, showarrow: false, xanchor: 'left'}}]}},
    {{displaylogo: false, responsive: true}});
}}
s.addEventListener('input', function() {{ show(parseInt(s.value, 10)); }});
show(parseInt(s.value, 10));
}})();
</script>"""
