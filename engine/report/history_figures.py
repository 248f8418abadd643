"""The search's history: the loss and each objective term over evaluations, FC correlation against the baselines."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from engine.report.canvas import MAPS, MODEL, STRUCTURE, Drawn, figure, message, style
from engine.runs.layout import finite_or_none


def _series(rows: Sequence[Mapping[str, Any]], get: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluation numbers, values and the value of the best candidate so far (by loss), of the unflagged rows."""
    ev, val, best = [], [], []
    best_loss, best_value = math.inf, math.nan
    for r in rows:
        v = None if r.get("flag") else finite_or_none(get(r))
        if v is None:
            continue
        if float(r["loss"]) < best_loss:
            best_loss, best_value = float(r["loss"]), v
        ev.append(int(r["evaluation"]))
        val.append(v)
        best.append(best_value)
    return np.asarray(ev), np.asarray(val), np.asarray(best)


def _panel(ax: Any, ev: np.ndarray, val: np.ndarray, best: np.ndarray, label: str) -> None:
    style(ax)
    if ev.size == 0:
        message(ax, f"no {label} logged")
        return
    ax.scatter(ev, val, s=9, color="#9a9a9a", linewidths=0, label="each candidate")
    ax.step(ev, best, where="post", color=MODEL, linewidth=1.6, label="best candidate so far")
    ax.set_title(label, fontsize=9)
    ax.set_xlabel("evaluation", fontsize=8)


def baselines(summary: Mapping[str, Any]) -> list[tuple[str, float, str]]:
    """(label, r, colour) of the structure-alone and each map-alone baseline the summary holds."""
    out = []
    s = finite_or_none(summary.get("structural_baseline"))
    if s is not None:
        out.append(("structure alone", s, STRUCTURE))
    for name, r in dict(summary.get("map_baselines") or {}).items():
        v = finite_or_none(r)
        if v is not None:
            out.append((f"{name} alone", v, MAPS))
    return out


def history(rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any], objective: str, edges: str = "all") -> Drawn:
    """Loss, FC correlation (with the baselines) and every other objective term over the evaluations."""
    terms = list(dict.fromkeys(k for r in rows for k in (r.get("terms") or {})))
    others = [t for t in terms if t != "fc"]
    n = 2 + len(others)
    cols = min(n, 3)
    fig = figure(4.2 * cols, 3.3 * math.ceil(n / cols))
    axes = np.atleast_1d(fig.subplots(math.ceil(n / cols), cols)).ravel()
    for ax in axes[n:]:
        ax.set_axis_off()
    _panel(axes[0], *_series(rows, lambda r: r.get("loss")), f"loss ({objective})")
    ax = axes[1]
    ev, r, best = _series(rows, lambda r: r.get("fc_corr") if "fc_corr" in r else None)
    _panel(ax, ev, r, best, "FC correlation r" + ("" if edges == "all" else f" ({edges} edges)"))
    for i, (label, value, colour) in enumerate(baselines(summary)):
        ax.axhline(value, color=colour, linestyle="--" if i == 0 else ":", linewidth=1.2, label=f"{label} {value:.3f}")
    if ev.size:
        ax.legend(fontsize=7, loc="best", framealpha=0.9, edgecolor="#dddddd")
    for ax, t in zip(axes[2:], others):
        _panel(ax, *_series(rows, lambda r, t=t: (r.get("terms") or {}).get(t)), t)
    axes[0].legend(fontsize=7, loc="best", framealpha=0.9, edgecolor="#dddddd")
    flagged = sum(1 for r in rows if r.get("flag"))
    caption = (f"{len(rows):,} candidates; grey: each candidate, red: the best candidate so far (lowest loss) — in the "
               "term panels its value of that term. "
               + (f"{flagged} flagged candidate(s) (diverged or out of range) are left out. " if flagged else "")
               + "Dashed: what the structural connectivity alone correlates with the target FC; dotted: each brain "
                 "map alone, when the summary has them.")
    return Drawn(name="history", title="Search history", caption=caption, fig=fig)
