"""The setup form's model rows: coupling, local parameter set, FIC, and the regional / control parameters
(``wEE@myelinmap=-1:1``, ``ext_E@fcgradient=0.3``, ``fic_target=0.05``) the registry table does not list."""

from __future__ import annotations

from typing import Any, Iterator

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select

from engine import local_sets
from engine.config import ConfigError, FitConfig, parse_bound, parse_fixed
from engine.model import coupling
from engine.params import REGISTRY


def _extra_text(c: FitConfig) -> str:
    """The non-registry parameters of ``c`` as ``NAME=LO:HI`` / ``NAME=VALUE``, comma separated."""
    parts = [f"{n}={lo:g}:{hi:g}" for n, (lo, hi) in c.bounds.items() if n not in REGISTRY]
    parts += [f"{n}={v:g}" for n, v in c.fixed.items() if n not in REGISTRY]
    return ", ".join(parts)


def compose(c: FitConfig) -> Iterator[Widget]:
    """The rows (inside the form's compose)."""

    with Horizontal(classes="form-row"):
        yield Label("coupling", classes="flabel")
        yield Select([(n, n) for n in coupling.REGISTRY], value=c.coupling, allow_blank=False, compact=True,
                     id="coupling")
        yield Label("local set", classes="flabel2")
        yield Select([(n, n) for n in local_sets.REGISTRY], value=c.local_set, allow_blank=False, compact=True,
                     id="local_set")
        yield Checkbox("FIC", c.fic, compact=True, id="fic",
                       tooltip="feedback inhibition control: wIE per region holds rE at fic_target")
    with Horizontal(classes="form-row"):
        yield Label("regional", classes="flabel")
        yield Input(_extra_text(c), id="regional", compact=True, classes="wide",
                    placeholder="e.g. ext_E@fcgradient=-1:1, ext_E@strength=-0.5, fic_target=0.05")
        yield Label("P@MAP=LO:HI fits, =VALUE fixes", classes="funit")


def apply(form: Widget, c: FitConfig) -> None:
    """Show a preset's model settings."""
    form.query_one("#coupling", Select).value = c.coupling
    form.query_one("#local_set", Select).value = c.local_set
    form.query_one("#fic", Checkbox).value = c.fic
    form.query_one("#regional", Input).value = _extra_text(c)


def read(form: Widget, bounds: dict[str, tuple[float, float]], fixed: dict[str, float]) -> dict[str, Any]:
    """FitConfig keywords of the rows; the regional entries are added to ``bounds`` / ``fixed`` (ConfigError)."""
    for item in (t.strip() for t in form.query_one("#regional", Input).value.split(",")):
        if not item:
            continue
        if ":" in item.partition("=")[2]:
            name, b = parse_bound(item)
            bounds[name] = b
        else:
            name, v = parse_fixed(item)
            fixed[name] = v
    fic = form.query_one("#fic", Checkbox).value
    if fic:
        fixed.pop("wIE", None)  # computed per region
    elif "fic_target" in fixed or "fic_target" in bounds:
        raise ConfigError("fic_target is the rate feedback inhibition control holds; tick FIC")
    return {"coupling": str(form.query_one("#coupling", Select).value),
            "local_set": str(form.query_one("#local_set", Select).value), "fic": fic}
