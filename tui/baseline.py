"""The structural baseline: how well the structural connectivity alone predicts the target FC."""

from __future__ import annotations

import math

import numpy as np

from engine.data.compare import matrix_corr

#: Colour of the structure-alone line.
BASELINE = (200, 120, 255)


def structural_baseline(cmat: np.ndarray, target_fc: np.ndarray) -> float | None:
    """Pearson r between the upper triangles (k = 1) of Cmat and the target FC; None when undefined."""
    r = matrix_corr(cmat, target_fc)
    return None if math.isnan(r) else r


def fc_like(quantity: str, term_names: tuple[str, ...], loss_is_fc: bool) -> bool:
    """Whether ``quantity`` is 1 − FC correlation: the fc term, or the loss of an fc-only objective."""
    if quantity == "fc":
        return True
    return quantity == "loss" and loss_is_fc and set(term_names) <= {"fc"}


#: Colour of the map-alone line (the best map a fit uses, on its own).
MAP_NULL = (255, 170, 60)


def draw_baseline(fig, y: float, x_right: float, label: str = "structure alone", colour=BASELINE) -> None:
    """On a plotext figure: a dashed horizontal line at ``y`` labelled ``label`` at its right end."""
    import plotext as plt

    # violet on the axes' black (plotext's default line pixel has a white background: a solid bar)
    fig.line(y, orientation=0, relative=True, style="dashed", pixel=plt.pixel(foreground=colour, background="black"))
    fig.draw(fig.text(x_right, y, label, alignment="right"))


def draw_nulls(fig, baseline: float | None, map_null: tuple[str, float] | None, x_right: float) -> None:
    """The structure-alone line and, when the fit uses maps, the best map-alone line (both at 1 − r)."""
    if baseline is not None:
        draw_baseline(fig, 1.0 - baseline, x_right)
    if map_null is not None:
        draw_baseline(fig, 1.0 - map_null[1], x_right, f"{map_null[0]} alone", MAP_NULL)
