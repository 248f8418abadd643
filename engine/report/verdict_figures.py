"""The verdict on the best candidate: its scores on the fit's own noise, on fresh noise (mean ± sd), on held-out data.

Reads the summary's ``fresh`` ({seeds, fc_corr_mean, fc_corr_sd, fcd_ks_mean, fcd_ks_sd, mean_fc_mean, mean_fc_sd,
data_mean_fc, test: {…}}) and ``held_out`` ({train_r, test_r, train_ks, test_ks, test_baseline}) when present;
neither is required.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.model.tradeoff import tradeoff_text
from engine.report.canvas import DATA, MODEL, STRUCTURE, Drawn, figure, message, style
from engine.runs.layout import finite_or_none
from engine.summary_text import regime_text

#: (label, value, sd or None, colour) of one point.
Point = tuple[str, float, "float | None", str]


def _mapping(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}




def _add(points: list[Point], label: str, value: Any, sd: Any = None, colour: str = MODEL) -> None:
    v = finite_or_none(value)
    if v is not None:
        points.append((label, v, finite_or_none(sd), colour))


def score_points(summary: Mapping[str, Any]) -> dict[str, list[Point]]:
    """The points of each panel (FC r, FCD KS, mean FC) from the summary; empty panels are dropped."""
    fresh = _mapping(summary.get("fresh"))
    test = _mapping(fresh.get("test"))
    held = _mapping(summary.get("held_out"))
    seeds = fresh.get("seeds")
    n = f" ({len(seeds)} seeds)" if isinstance(seeds, (list, tuple)) else ""
    r: list[Point] = []
    _add(r, "fit (its noise)", summary.get("fc_corr"))
    _add(r, f"fresh noise{n}", fresh.get("fc_corr_mean"), fresh.get("fc_corr_sd"))
    _add(r, "held-out: train", held.get("train_r"), colour=DATA)
    _add(r, "held-out: test", held.get("test_r"), colour=DATA)
    _add(r, f"test, fresh noise{n}", test.get("fc_corr_mean"), test.get("fc_corr_sd"), colour=DATA)
    ks: list[Point] = []
    _add(ks, "fit (its noise)", _mapping(summary.get("terms")).get("fcd_ks"))
    _add(ks, f"fresh noise{n}", fresh.get("fcd_ks_mean"), fresh.get("fcd_ks_sd"))
    _add(ks, "held-out: train", held.get("train_ks"), colour=DATA)
    _add(ks, "held-out: test", held.get("test_ks"), colour=DATA)
    _add(ks, f"test, fresh noise{n}", test.get("fcd_ks_mean"), test.get("fcd_ks_sd"), colour=DATA)
    mean: list[Point] = []
    _add(mean, f"model, fresh noise{n}", fresh.get("mean_fc_mean"), fresh.get("mean_fc_sd"))
    _add(mean, "data", fresh.get("data_mean_fc"), colour=DATA)
    return {k: v for k, v in (("FC correlation r", r), ("FCD KS (lower is better)", ks), ("mean FC", mean)) if v}


def _lines(summary: Mapping[str, Any]) -> list[tuple[str, float]]:
    held = _mapping(summary.get("held_out"))
    out = []
    for label, v in (("structure alone", summary.get("structural_baseline")),
                     ("structure alone (test)", held.get("test_baseline"))):
        x = finite_or_none(v)
        if x is not None:
            out.append((label, x))
    return out


def verdict(summary: Mapping[str, Any]) -> Drawn:
    """The best candidate's r, KS and mean FC on its own noise, fresh noise and held-out data, as points ± sd."""
    panels = score_points(summary)
    has_checks = any(isinstance(summary.get(k), Mapping) and summary.get(k) for k in ("fresh", "held_out"))
    tallest = max((len(p) for p in panels.values()), default=1)
    fig = figure(4.0 * max(1, len(panels)), 1.5 + 0.45 * tallest)
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
    if not panels:
        message(axes[0], "the summary holds no scores (the run has not finished)")
    for ax, (title, points) in zip(axes, panels.items()):
        style(ax)
        for y, (label, value, sd, colour) in enumerate(points):
            ax.errorbar(value, y, xerr=sd, fmt="o", color=colour, capsize=4, markersize=6)
            ax.annotate(f"{value:.3f}" + ("" if sd is None else f" ± {sd:.3f}"), (value, y),
                        textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7)
        ax.set_yticks(range(len(points)), [p[0] for p in points], fontsize=8)
        ax.set_ylim(-0.7, len(points) - 0.3)
        ax.invert_yaxis()
        if title.startswith("FC correlation"):
            for i, (label, x) in enumerate(_lines(summary)):
                ax.axvline(x, color=STRUCTURE, linestyle="--" if i == 0 else ":", linewidth=1.1, label=f"{label} {x:.3f}")
            if _lines(summary):
                ax.legend(fontsize=7, loc="best", framealpha=0.9, edgecolor="#dddddd")
        ax.set_title(title, fontsize=9)
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
    caption = ("Red: the best candidate on the data it was fitted to; black: on held-out data. "
               + ("" if has_checks else "This run has no fresh-noise check and no held-out scores (fit with --split "
                                        "or --test for held-out scores)."))
    regime = regime_text(_mapping(summary.get("fresh")).get("node_regime"))
    if regime:
        caption += f" Node regime at the best point: {regime}."
    joint = tradeoff_text(_mapping(summary.get("tradeoff")) or None)
    if joint:
        caption += f" Joint bars: {joint}."
    return Drawn(name="verdict", title="Verdict: fresh noise and held-out scores", caption=caption.strip(), fig=fig)
