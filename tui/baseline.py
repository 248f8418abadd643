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


def draw_baseline(fig, y: float, x_right: float) -> None:
    """On a plotext figure: a dashed horizontal line at ``y`` labelled "structure alone" at its right end."""
    import plotext as plt

    # violet on the axes' black (plotext's default line pixel has a white background: a solid bar)
    fig.line(y, orientation=0, relative=True, style="dashed", pixel=plt.pixel(foreground=BASELINE, background="black"))
    fig.draw(fig.text(x_right, y, "structure alone", alignment="right"))
