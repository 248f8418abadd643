"""Every registry parameter: fit (with lower/upper bounds) or fixed (with a value), and its unit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label

from engine.params import REGISTRY, ParamSpec


def parse_number(text: str, what: str) -> float:
    """A float from an input, or ValueError with a one-line reason."""
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"{what}: {text.strip()!r} is not a number") from None


def mode_label(fit: bool) -> str:
    """The toggle's label: the state as a word, readable without colour ("fit" or "fixed")."""
    return "fit  " if fit else "fixed"


class ModeToggle(Checkbox):
    """A checkbox whose box shows X only when on (the stock one draws X either way, told apart by colour)."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's class attribute, made state-dependent
        return "X" if self.value else " "


class ParamRow(Horizontal):
    """One parameter: name, fit toggle, lower, upper, fixed value, unit."""

    def __init__(self, spec: ParamSpec, *, fit: bool, lower: float, upper: float, value: float) -> None:
        super().__init__(id=f"param-{spec.name}", classes="param-row")
        self.spec = spec
        self._init = (fit, lower, upper, value)

    def compose(self) -> ComposeResult:
        fit, lo, hi, val = self._init
        s = self.spec
        yield Label(s.name, classes="pname")
        yield ModeToggle(mode_label(fit), fit, compact=True, id=f"fit-{s.name}",
                       tooltip=f"{s.description} — space/click toggles fit ↔ fixed")
        yield Input(f"{lo:g}", compact=True, id=f"lo-{s.name}", classes="num", disabled=not fit)
        yield Input(f"{hi:g}", compact=True, id=f"hi-{s.name}", classes="num", disabled=not fit)
        yield Input(f"{val:g}", compact=True, id=f"val-{s.name}", classes="num", disabled=fit)
        yield Label(s.unit or "", classes="punit")

    @property
    def fitted(self) -> bool:
        """Whether this parameter is fitted."""
        return self.query_one(Checkbox).value

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        name = self.spec.name
        event.checkbox.label = mode_label(event.value)
        self.query_one(f"#lo-{name}", Input).disabled = not event.value
        self.query_one(f"#hi-{name}", Input).disabled = not event.value
        self.query_one(f"#val-{name}", Input).disabled = event.value

    def read(self) -> tuple[tuple[float, float] | None, float | None]:
        """(bounds, None) when fitted, (None, value) when fixed; ValueError on a non-number."""
        name = self.spec.name
        if self.fitted:
            lo = parse_number(self.query_one(f"#lo-{name}", Input).value, f"lower bound of {name}")
            hi = parse_number(self.query_one(f"#hi-{name}", Input).value, f"upper bound of {name}")
            return (lo, hi), None
        return None, parse_number(self.query_one(f"#val-{name}", Input).value, f"value of {name}")


class ParamTable(Vertical):
    """The parameter table of the setup form."""

    def __init__(self, bounds: dict[str, tuple[float, float]], fixed: dict[str, float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._bounds, self._fixed = bounds, fixed

    def compose(self) -> ComposeResult:
        with Horizontal(classes="param-row param-head"):
            for text, cls in (("parameter", "pname"), ("mode", "pfit"), ("lower", "num"), ("upper", "num"),
                              ("fixed", "num"), ("unit", "punit")):
                yield Label(text, classes=cls)
        for name, spec in REGISTRY.items():
            lo, hi = self._bounds.get(name, (spec.lower, spec.upper))
            yield ParamRow(spec, fit=name in self._bounds, lower=lo, upper=hi,
                           value=self._fixed.get(name, spec.default))

    def set_values(self, bounds: dict[str, tuple[float, float]], fixed: dict[str, float]) -> None:
        """Fit the parameters in ``bounds`` (within them); fix the rest at ``fixed`` or their defaults."""
        for row in self.query(ParamRow):
            s = row.spec
            lo, hi = bounds.get(s.name, (s.lower, s.upper))
            row.query_one(Checkbox).value = s.name in bounds
            row.query_one(f"#lo-{s.name}", Input).value = f"{lo:g}"
            row.query_one(f"#hi-{s.name}", Input).value = f"{hi:g}"
            row.query_one(f"#val-{s.name}", Input).value = f"{fixed.get(s.name, s.default):g}"

    def read(self) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
        """Fitted bounds and fixed values that differ from the defaults; ValueError on a non-number."""
        bounds: dict[str, tuple[float, float]] = {}
        fixed: dict[str, float] = {}
        for row in self.query(ParamRow):
            b, v = row.read()
            if b is not None:
                bounds[row.spec.name] = b
            elif v != row.spec.default or row.spec.name == "sigma":
                fixed[row.spec.name] = v  # type: ignore[assignment]
        return bounds, fixed
