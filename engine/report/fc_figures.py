"""FC figures: the target and best model FC side by side with their difference, and model against data per edge."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.data.compare import matrix_corr, upper
from engine.report.canvas import DATA, MODEL, Drawn, figure, message, style
from engine.report.regions import RegionOrder

Edges = tuple[np.ndarray, np.ndarray]


def _off_diagonal(m: np.ndarray) -> np.ndarray:
    out = np.array(m, np.float64)
    np.fill_diagonal(out, np.nan)
    return out


def _symmetric_limit(*mats: np.ndarray) -> float:
    vals = np.concatenate([np.abs(upper(m)) for m in mats])
    vals = vals[np.isfinite(vals)]
    return float(np.quantile(vals, 0.995)) if vals.size else 1.0


def _range(m: np.ndarray) -> tuple[float, float]:
    """The 0.5th and 99.5th percentiles of a matrix's off-diagonal values (its own colour scale)."""
    vals = upper(m)
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        return -1.0, 1.0
    lo, hi = (float(x) for x in np.quantile(vals, [0.005, 0.995]))
    return (lo, hi) if hi > lo else (lo - 0.01, hi + 0.01)


def _boundaries(ax: Any, order: RegionOrder) -> None:
    """Network runs as thin lines, hemispheres as thick ones, named along the axes."""
    n = order.order.size
    for groups, colour, width in ((order.networks, "#555555", 0.5), (order.hemispheres, "black", 1.4)):
        if groups is None:
            continue
        for start in groups.starts[1:]:
            ax.axhline(start - 0.5, color=colour, linewidth=width)
            ax.axvline(start - 0.5, color=colour, linewidth=width)
    y_groups = order.networks or order.hemispheres
    x_groups = order.hemispheres or order.networks
    if y_groups is not None:
        b = y_groups.bounds()
        ax.set_yticks([(s + e - 1) / 2 for s, e, _ in b], [name for _, _, name in b], fontsize=6)
    if x_groups is not None:
        b = x_groups.bounds()
        ax.set_xticks([(s + e - 1) / 2 for s, e, _ in b], [name for _, _, name in b], fontsize=7)
    if y_groups is None and x_groups is None:
        ticks = np.linspace(0, n - 1, min(n, 5)).round().astype(int)
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
    ax.tick_params(length=0)


def _matrix(fig: Any, ax: Any, m: np.ndarray, order: RegionOrder, title: str) -> None:
    lo, hi = _range(m)
    im = ax.imshow(order.apply(_off_diagonal(m)), cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    _boundaries(ax, order)
    fig.colorbar(im, ax=ax, shrink=0.75, label="Pearson r")


def fc_matrices(target: np.ndarray, model: np.ndarray | None, order: RegionOrder, *, edges_name: str) -> Drawn:
    """Target FC, best model FC and model − target, in drawing order with the group boundaries."""
    fig = figure(13.0, 4.2)
    axes = fig.subplots(1, 3)
    _matrix(fig, axes[0], target, order, "target FC")
    if model is None:
        axes[1].set_title("best model FC", fontsize=10)
        message(axes[1], "no best model FC yet\n(no batch finished)")
        message(axes[2], "")
    else:
        _matrix(fig, axes[1], model, order, "best model FC")
        dlim = _symmetric_limit(model - target)
        im = axes[2].imshow(order.apply(_off_diagonal(model - target)), cmap="RdBu_r", vmin=-dlim, vmax=dlim,
                            interpolation="nearest")
        axes[2].set_title("model − target", fontsize=10)
        _boundaries(axes[2], order)
        fig.colorbar(im, ax=axes[2], shrink=0.75, label="Δ r")
    lines = "; ".join(w for w, g in (("thick lines: hemispheres", order.hemispheres), ("thin lines: networks",
                                                                                    order.networks)) if g is not None)
    caption = (f"{order.note}{'; ' + lines if lines else ''}. Each FC on its own colour scale "
               "(0.5th–99.5th percentile of its values), so the pattern shows even where the levels differ; the "
               f"difference on a symmetric scale (red: the model's FC is higher). The diagonal is blank. The fit "
               f"scored {edges_name} edges.")
    return Drawn(name="fc_matrices", title="Target and best model FC", caption=caption, fig=fig)


def fc_scatter(target: np.ndarray, model: np.ndarray | None, edges: Edges | None, *, edges_name: str) -> Drawn:
    """Model FC against data FC on every scored edge, with Pearson r and the identity line."""
    fig = figure(5.2, 4.8)
    ax = fig.subplots()
    if model is None:
        message(ax, "no best model FC yet (no batch finished)")
        return Drawn(name="fc_scatter", title="Model vs data FC", caption="", fig=fig)
    x, y = upper(target, edges), upper(model, edges)
    ok = np.isfinite(x) & np.isfinite(y)
    r = matrix_corr(model, target, edges)
    style(ax)
    ax.scatter(x[ok], y[ok], s=4 if ok.sum() > 2000 else 8, alpha=0.35, color=MODEL, linewidths=0,
               rasterized=True)
    lo = float(min(x[ok].min(), y[ok].min())) if ok.any() else -1.0
    hi = float(max(x[ok].max(), y[ok].max())) if ok.any() else 1.0
    ax.plot([lo, hi], [lo, hi], linestyle="--", color=DATA, linewidth=0.8, label="identity")
    if ok.sum() > 2:
        slope, icept = np.polyfit(x[ok], y[ok], 1)
        x0, x1 = float(x[ok].min()), float(x[ok].max())
        ax.plot([x0, x1], [icept + slope * x0, icept + slope * x1], color=MODEL, linewidth=1.2,
                label=f"least squares (slope {slope:.2f})")
    pad = 0.03 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("data FC (Pearson r)", fontsize=9)
    ax.set_ylabel("model FC (Pearson r)", fontsize=9)
    ax.set_title(f"r = {r:.3f} on {int(ok.sum()):,} {edges_name} edges", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    caption = ("Each dot is one scored edge (upper triangle); r is the fit's FC correlation. A slope well below 1 "
               "means the model's FC has less spread than the data's.")
    return Drawn(name="fc_scatter", title="Model vs data FC", caption=caption, fig=fig)
