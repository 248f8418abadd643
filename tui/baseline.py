"""The structural baseline: how well the structural connectivity alone predicts the target FC."""

from __future__ import annotations

import numpy as np

#: Colour of the structure-alone line.
BASELINE = (200, 120, 255)


def structural_baseline(cmat: np.ndarray, target_fc: np.ndarray) -> float | None:
    """Pearson r between the upper triangles (k = 1) of Cmat and the target FC; None when undefined."""
    c, f = np.asarray(cmat, np.float64), np.asarray(target_fc, np.float64)
    if c.shape != f.shape or c.ndim != 2 or c.shape[0] < 3:
        return None
    iu = np.triu_indices(c.shape[0], k=1)
    a, b = c[iu], f[iu]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return None
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return None if den == 0.0 or not np.isfinite(den) else float((a * b).sum() / den)


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
