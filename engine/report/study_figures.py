"""A study's figures: each subject's FC correlation beside its structure alone, and distributions over subjects."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from engine.report.canvas import DATA, MODEL, STRUCTURE, Drawn, figure, message, style
from engine.runs.layout import finite_or_none

#: How the figures name the table's columns.
LABELS = {"fc_corr": "FC correlation r", "structural_baseline": "structure alone r", "test_fc_corr": "held-out test r",
          "loss": "best loss"}




def subject_scores(rows: Sequence[Mapping[str, Any]]) -> Drawn:
    """Per subject: best FC correlation r and structure alone (and test r when held out), as connected dots."""
    fig = figure(7.5, 1.3 + 0.32 * max(3, len(rows)))
    ax = fig.subplots()
    done = [r for r in rows if finite_or_none(r.get("fc_corr")) is not None]
    if not done:
        message(ax, "no subject has a best candidate yet")
        return Drawn(name="study_scores", title="Subjects: FC correlation", caption="", fig=fig)
    style(ax)
    for y, r in enumerate(done):
        fit, base, test = float(r["fc_corr"]), finite_or_none(r.get("structural_baseline")), finite_or_none(r.get("test_fc_corr"))
        if base is not None:
            ax.plot([base, fit], [y, y], color="#cccccc", linewidth=2, zorder=1)
            ax.scatter([base], [y], color=STRUCTURE, s=28, zorder=2, label="structure alone" if y == 0 else None)
        ax.scatter([fit], [y], color=MODEL, s=32, zorder=3, label="best fit" if y == 0 else None)
        if test is not None:
            ax.scatter([test], [y], color=DATA, marker="D", s=24, zorder=3, label="held-out test" if y == 0 else None)
    ax.set_yticks(range(len(done)), [str(r["subject"]) for r in done], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("FC correlation r" + (f" ({done[0]['edges']} edges)" if done[0].get("edges") else ""), fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3)
    rs = np.array([finite_or_none(r.get("fc_corr")) for r in done], np.float64)
    caption = (f"{len(done)} of {len(rows)} subjects with a best candidate; r = {rs.mean():.3f} ± {rs.std():.3f} "
               "(mean ± sd over subjects). Each row: the subject's structure alone (blue) and its best fit (red).")
    return Drawn(name="study_scores", title="Subjects: FC correlation against structure alone", caption=caption,
                 fig=fig)


def distributions(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Drawn:
    """Box and dots over subjects of the loss, r, structure alone and every fitted parameter."""
    shown = [c for c in columns if any(finite_or_none(r.get(c)) is not None for r in rows)]
    fig = figure(min(12.0, 2.6 * max(1, len(shown))), 3.4)
    if not shown:
        message(fig.subplots(), "no subject has a best candidate yet")
        return Drawn(name="study_distributions", title="Distributions over subjects", caption="", fig=fig)
    axes = np.atleast_1d(fig.subplots(1, len(shown)))
    for ax, c in zip(axes, shown):
        style(ax)
        v = np.array([x for x in (finite_or_none(r.get(c)) for r in rows) if x is not None])
        ax.boxplot([v], widths=0.5, showfliers=False, medianprops={"color": "black"})
        ax.scatter(1 + np.linspace(-0.12, 0.12, v.size) if v.size > 1 else [1.0], v, s=14, color=MODEL, zorder=3,
                   linewidths=0)
        ax.set_xticks([])
        ax.set_title(LABELS.get(c, c), fontsize=9)
        ax.set_xlabel(f"{v.mean():.3g} ± {v.std():.2g}", fontsize=8)
    caption = "Each dot is one subject's best candidate; box: quartiles and median; below each: mean ± sd."
    return Drawn(name="study_distributions", title="Distributions over subjects", caption=caption, fig=fig)
