"""Drawing with matplotlib without pyplot (no global state, safe in a worker thread), and saving the figures.

matplotlib is an optional extra (``pip install 'wcfit-tui[report]'``): ``require_matplotlib`` says so in one line.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.runs.layout import RunError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The formats a report can write beside its PNGs (and the PNG it always writes).
FORMATS = ("png", "pdf", "svg")
#: Resolution of the PNGs (and of the images embedded in the page).
DPI = 110
#: Colours: data, model, and the baselines' lines.
DATA, MODEL, STRUCTURE, MAPS = "#333333", "#d1495b", "#00798c", "#edae49"
#: The page's one install hint.
INSTALL_HINT = "pip install 'wcfit-tui[report]' (or pip install matplotlib)"


class ReportError(RunError):
    """A report cannot be made as asked; the message is one line meant for the user."""


def require_matplotlib() -> str:
    """matplotlib's version; ReportError (one line, with the install command) when it is not installed."""
    try:
        import matplotlib
    except ImportError:
        raise ReportError(f"the report draws its figures with matplotlib, which is not installed: {INSTALL_HINT}") \
            from None
    return str(matplotlib.__version__)


def figure(width: float, height: float) -> "Figure":
    """A new figure of ``width`` × ``height`` inches with the report's style (no pyplot)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig


def style(ax: Any) -> None:
    """The report's look on one axes: no top/right spines, light grid, small ticks."""
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=8)


def message(ax: Any, text: str) -> None:
    """An empty axes that says, in its middle, what is missing."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=9, color="#666666",
            transform=ax.transAxes)


@dataclass(frozen=True, kw_only=True)
class Drawn:
    """One figure of a report: its file stem, title, caption and the matplotlib figure."""

    name: str
    title: str
    caption: str
    fig: "Figure"


def png_bytes(fig: "Figure") -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def save(drawn: Drawn, folder: Path, formats: tuple[str, ...]) -> tuple[bytes, list[Path]]:
    """Write the figure as NAME.png (and NAME.pdf / NAME.svg when asked); its PNG bytes and the files written."""
    png = png_bytes(drawn.fig)
    written = [folder / f"{drawn.name}.png"]
    written[0].write_bytes(png)
    for fmt in formats:
        if fmt != "png":
            dest = folder / f"{drawn.name}.{fmt}"
            drawn.fig.savefig(dest, format=fmt, facecolor="white")
            written.append(dest)
    return png, written


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``png,pdf,svg`` → the formats (PNG always); ReportError on an unknown one."""
    asked = [f.strip().lower().lstrip(".") for f in (text or "png").split(",") if f.strip()]
    bad = [f for f in asked if f not in FORMATS]
    if bad:
        raise ReportError(f"unknown figure format {bad[0]!r}; choose from {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(["png", *asked]))


def finite(values: Any) -> np.ndarray:
    """The finite values of ``values`` as a float64 vector."""
    v = np.asarray(values, np.float64).ravel()
    return v[np.isfinite(v)]
