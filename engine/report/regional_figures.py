"""Regional parameters of the best candidate: each per region (drive, FIC's I→E weight, …) and per network."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.report.canvas import Drawn, figure, style
from engine.report.regions import RegionOrder

#: Colours of the networks (tab10 without its red, which marks the model elsewhere).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
#: How the figure names a parameter.
NAMES = {"ext_E": "drive to E (ext_E)", "ext_I": "drive to I (ext_I)", "wIE": "I→E weight (wIE, FIC)",
         "wEE": "E→E weight (wEE)", "wEI": "E→I weight (wEI)", "wII": "I→I weight (wII)"}


def regional_values(config: FitConfig, dataset: Dataset, params: Mapping[str, float]) -> dict[str, np.ndarray]:
    """The best candidate's per-region values (N,) of every parameter that varies over regions (none if homogeneous)."""
    if not (config.regional or config.fic):
        return {}
    from engine.model.objective import Objective  # JAX: only for regional fits

    objective = Objective(dataset, config)
    return objective.regional_values(np.array([float(params[n]) for n in config.names]))


def _groups(order: RegionOrder) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """Group code of each region (data order) and the groups' names: networks, else hemispheres."""
    if order.network is not None:
        return order.network, order.network_names
    if order.hemispheres is not None:
        codes = np.empty(order.order.size, np.int64)
        codes[order.order] = np.repeat(np.arange(len(order.hemispheres.starts)),
                                       np.diff(order.hemispheres.starts + (order.hemispheres.size,)))
        return codes, order.hemispheres.names
    return None


def _per_region(ax: Any, values: np.ndarray, order: RegionOrder, colours: list[str], label: str) -> None:
    style(ax)
    v = values[order.order]
    x = np.arange(v.size)
    mean = float(v.mean())
    ax.axhline(mean, color="#999999", linewidth=0.8)
    ax.vlines(x, mean, v, colors=colours, linewidth=1.2)
    ax.scatter(x, v, s=12, c=colours, zorder=3, linewidths=0)
    if order.hemispheres is not None:
        for s in order.hemispheres.starts[1:]:
            ax.axvline(s - 0.5, color="black", linewidth=1.3)
    ax.set_xlim(-0.5, v.size - 0.5)
    groups = order.networks or order.hemispheres
    if groups is not None:
        b = groups.bounds()
        ax.set_xticks([(s + e - 1) / 2 for s, e, _ in b], [name for _, _, name in b], fontsize=6,
                      rotation=90 if len(b) > 4 else 0)
        ax.tick_params(axis="x", length=0)
    ax.set_title(f"{label} per region (grey: mean {mean:.3g})", fontsize=9)


def _per_group(ax: Any, values: np.ndarray, codes: np.ndarray, names: tuple[str, ...], label: str) -> None:
    style(ax)
    present = [g for g in range(len(names)) if np.any(codes == g)]
    data = [values[codes == g] for g in present]
    ax.boxplot(data, orientation="horizontal", widths=0.6, showfliers=False, medianprops={"color": "black"})
    for i, (g, d) in enumerate(zip(present, data)):
        jitter = np.linspace(-0.15, 0.15, d.size) if d.size > 1 else np.zeros(1)
        ax.scatter(d, i + 1 + jitter, s=10, color=PALETTE[g % len(PALETTE)], zorder=3, linewidths=0)
    ax.set_yticks(range(1, len(present) + 1), [names[g] for g in present], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(f"{label} per network" if len(names) > 2 else f"{label} per hemisphere", fontsize=9)


def regional_figure(values: Mapping[str, np.ndarray], order: RegionOrder, params: Mapping[str, float]) -> Drawn:
    """One row per regional parameter: its value per region (coloured by network) and its spread per network."""
    names = sorted(values, key=lambda n: (n == "wIE", n))  # the drives first, FIC's weight last
    fig = figure(12.0, 2.9 * len(names))
    axes = fig.subplots(len(names), 2, width_ratios=[2.3, 1], squeeze=False)
    grouping = _groups(order)
    codes = grouping[0] if grouping else np.zeros(order.order.size, np.int64)
    colour_of = [PALETTE[int(c) % len(PALETTE)] if grouping else "#555555" for c in codes[order.order]]
    for row, name in zip(axes, names):
        label = NAMES.get(name, name)
        _per_region(row[0], values[name], order, colour_of, label)
        if grouping:
            _per_group(row[1], values[name], grouping[0], grouping[1], label)
        else:
            row[1].set_axis_off()
    coefs = ", ".join(f"{k} = {float(v):.3g}" for k, v in params.items() if "@" in k)
    caption = ("Bars: the best candidate's value in each region, coloured by network; black line: hemispheres. "
               "Right: the same values per network (box: quartiles; dots: regions). "
               + (f"Coefficients: {coefs}." if coefs else ""))
    return Drawn(name="regional", title="Regional parameters of the best candidate", caption=caption.strip(), fig=fig)
