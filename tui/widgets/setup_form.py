"""The setup form: dataset (checked as you type), preset, optimizer, observation and objective, search and simulation
settings, parameters. It builds the FitConfig that ``wcfit-tui fit`` would for the same options."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, Label, Select, Static
from textual.worker import get_current_worker

from engine import presets
from engine.cluster.connection import INSTALL_HINT
from engine.config import INITIAL_STATES, OPTIMIZERS, ConfigError, FitConfig, parse_band
from engine.data.dataset import DataError, Dataset, load_dataset
from engine.model import observe
from engine.prepare import group_fcd_window
from engine.settings import config_from_settings
from tui.widgets import model_fields
from tui.widgets.param_table import ParamTable, parse_number
from tui.widgets.scoring_fields import ScoringFields

#: Seconds of quiet typing before the dataset path is loaded.
DATA_DEBOUNCE_S = 0.3

#: A form row: (FitConfig field, label, kind, unit); kind is int or float, or a text kind read by ``read``.
Field = tuple[str, str, "type | str | None", str]

FIELDS: tuple[Field, ...] = (  # (field, label, kind, unit)
    ("batch", "batch", int, "candidates per device call"),
    ("budget", "budget", int, "evaluations"),
    ("duration_ms", "duration", float, "ms simulated"),
    ("dt_ms", "dt", float, "ms"),
    ("transient_ms", "transient", float, "ms discarded"),
    ("seed", "seed", int, ""),
    ("fresh_seeds", "fresh", int, "new noise seeds to re-score the best (0: skip)"),
)

#: Observation and objective settings (field, label, kind, unit); kind ``None``: text handled by ``read``.
SIGNAL_FIELDS: tuple[Field, ...] = (
    ("tr_s", "TR", "opt_float", "s (blank: the dataset's)"),
    ("objective", "objective", None, "e.g. fc or fc+0.5*fcd_ks"),
    ("fcd_window_s", "FCD window", float, "s"),
    ("fcd_step_s", "FCD step", float, "s"),
    ("bandpass_hz", "band-pass", "band", "Hz LOW:HIGH (blank: off)"),
)

#: FitConfig fields a preset may set that the form shows in an Input.
_INPUT_FIELDS = tuple(f[0] for f in FIELDS) + tuple(f[0] for f in SIGNAL_FIELDS)


def _show_value(name: str, value: object) -> str:
    """An Input's text for a configuration value."""
    if value is None:
        return ""
    if name == "bandpass_hz" and isinstance(value, (tuple, list)):
        lo, hi = value
        return f"{lo:g}:{hi:g}"
    if name == "objective":
        return str(value)
    return f"{value:g}"  # type: ignore[str-format]


class SetupForm(VerticalScroll):
    """Builds a ``FitConfig`` from the inputs; posts ``Validated`` with the config or the reason it is invalid."""

    @dataclass
    class Validated(Message):
        """The form was checked: ``config`` and ``dataset`` when usable, else ``problem`` says why not."""

        config: FitConfig | None
        dataset: object | None
        problem: str | None

    @dataclass
    class DataLoaded(Message):
        """A dataset path was checked (from the loader worker)."""

        source: str
        dataset: Dataset | None
        error: str | None

    def __init__(self, data: str = "bundled", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.initial = presets.get(presets.DEFAULT).config(data=data or "bundled")
        self.dataset: Dataset | None = None
        self.data_problem: str | None = "checking the dataset…"
        self.config: FitConfig | None = None
        self.problem: str | None = "checking the dataset…"
        self._data_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        c = self.initial
        with Horizontal(classes="form-row"):
            yield Label("dataset", classes="flabel")
            yield Input(c.data, id="data", compact=True, placeholder="bundled, a .msgpack/.npz/.mat file, a folder or .zip, or kaggle:OWNER/DATASET")
            yield Button("Browse… (^o)", id="browse", compact=True)
        yield Static("checking…", id="data-status", classes="status-line")
        with Horizontal(classes="form-row"):
            yield Label("preset", classes="flabel")
            yield Select([(p, p) for p in presets.REGISTRY], value=c.preset or presets.DEFAULT, allow_blank=False,
                         compact=True, id="preset")
        yield Static(presets.get(c.preset or presets.DEFAULT).description, id="preset-text", classes="status-line")
        with Horizontal(classes="form-row"):
            yield Label("observe", classes="flabel")
            yield Select([(o, o) for o in observe.NAMES], value=c.observe, allow_blank=False, compact=True,
                         id="observe")
            yield Label("initial", classes="flabel2")
            yield Select([(o, o) for o in INITIAL_STATES], value=c.initial, allow_blank=False, compact=True,
                         id="initial")
        for name, label, _kind, unit in SIGNAL_FIELDS:
            with Horizontal(classes="form-row"):
                yield Label(label, classes="flabel")
                yield Input(_show_value(name, getattr(c, name)), id=name, compact=True,
                            classes="wide" if name in ("objective", "bandpass_hz") else "num")
                yield Label(unit, classes="funit")
        yield ScoringFields(c, id="scoring")
        with Horizontal(classes="form-row"):
            yield Label("optimizer", classes="flabel")
            yield Select([(o, o) for o in OPTIMIZERS], value=c.optimizer, allow_blank=False, compact=True, id="optimizer")
            yield Checkbox("common noise", c.common_noise, compact=True, id="common_noise",
                           tooltip="all candidates of a batch see the same noise (fair comparison)")
        for name, label, _kind, unit in FIELDS:
            with Horizontal(classes="form-row"):
                yield Label(label, classes="flabel")
                yield Input(f"{getattr(c, name):g}", id=name, compact=True, classes="num")
                yield Label(unit, classes="funit")
        yield ParamTable(dict(c.bounds), dict(c.fixed), id="params")
        yield from model_fields.compose(c)
        with Horizontal(classes="form-row"):
            yield Label("cluster", classes="flabel")
            yield Input("", id="cluster", compact=True, classes="wide", placeholder="HOST:PORT of a Ray head")
            yield Label("blank: this machine", classes="funit")
        yield Static("", id="form-problem", classes="status-line")

    def on_mount(self) -> None:
        self.border_title = "Setup"
        self.check_data(self.query_one("#data", Input).value)

    # -- dataset ----------------------------------------------------------------------------
    @on(Input.Changed, "#data")
    def _data_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.dataset, self.data_problem = None, "checking the dataset…"
        self._show_data("checking…", "dim")
        self.validate()
        if self._data_timer is not None:
            self._data_timer.stop()
        self._data_timer = self.set_timer(DATA_DEBOUNCE_S, lambda: self.check_data(event.value))

    @work(thread=True, exclusive=True, group="data")
    def check_data(self, source: str) -> None:
        """Load the dataset in a thread; post ``DataLoaded``."""
        try:
            ds, err = load_dataset(source.strip() or None), None
        except DataError as e:
            ds, err = None, str(e)
        except Exception as e:  # noqa: BLE001 - an unexpected loader failure is still just a bad dataset
            ds, err = None, f"{type(e).__name__}: {e}".splitlines()[0]
        if not get_current_worker().is_cancelled:
            self.post_message(self.DataLoaded(source, ds, err))

    def on_setup_form_data_loaded(self, event: DataLoaded) -> None:
        if event.source != self.query_one("#data", Input).value:
            return  # a stale answer
        self.dataset, self.data_problem = event.dataset, event.error
        if event.dataset is not None:
            d = event.dataset
            scans = f", {d.n_scans} scans × {d.n_timepoints} samples" if d.n_scans else ""
            self._show_data(f"✓ {d.name}: {d.n_nodes} regions{scans}", "green")
            self._group_fcd_window(d)
        else:
            self._show_data(f"✗ {event.error}", "red")
        self.validate()

    def _group_fcd_window(self, dataset: object) -> None:
        """A group's FCD values fix the FCD window and step: put theirs into the form."""

        ws = group_fcd_window(dataset)  # type: ignore[arg-type]
        if ws is not None:
            self.query_one("#fcd_window_s", Input).value = f"{ws[0]:g}"
            self.query_one("#fcd_step_s", Input).value = f"{ws[1]:g}"

    def _show_data(self, text: str, style: str) -> None:
        self.query_one("#data-status", Static).update(Text(text, style=style))

    def set_data(self, path: str) -> None:
        """Put a path into the dataset input (from the file picker)."""
        self.query_one("#data", Input).value = path

    # -- presets ----------------------------------------------------------------------------
    @on(Select.Changed, "#preset")
    def _preset_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.apply_preset(str(event.value))

    def apply_preset(self, name: str) -> None:
        """Fill every field the preset ``name`` sets (the rest keep their values)."""
        p = presets.get(name)
        if str(self.query_one("#preset", Select).value) != name:
            self.query_one("#preset", Select).value = name  # posts Changed: this runs again, harmlessly
        self.query_one("#preset-text", Static).update(p.description)
        c = p.config(data=self.query_one("#data", Input).value.strip() or "bundled")
        for field in _INPUT_FIELDS:
            self.query_one(f"#{field}", Input).value = _show_value(field, getattr(c, field))
        for field in ("observe", "initial", "optimizer"):
            self.query_one(f"#{field}", Select).value = getattr(c, field)
        self.query_one("#common_noise", Checkbox).value = c.common_noise
        self.query_one(ParamTable).set_values(dict(c.bounds), dict(c.fixed))
        model_fields.apply(self, c)
        self.validate()

    # -- the rest ---------------------------------------------------------------------------
    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _changed(self, event: Message) -> None:
        self.validate()

    def read(self) -> FitConfig:
        """The configuration the inputs describe; ConfigError (one line) if it is invalid."""
        kw: dict[str, object] = {}
        try:
            for name, label, kind, _unit in FIELDS:
                text = self.query_one(f"#{name}", Input).value.strip()
                if kind is int:
                    try:
                        kw[name] = int(text)
                    except ValueError:
                        raise ValueError(f"{label}: {text!r} is not a whole number") from None
                else:
                    kw[name] = parse_number(text, label)
            for name, label, kind, _unit in SIGNAL_FIELDS:
                text = self.query_one(f"#{name}", Input).value.strip()
                if kind == "opt_float":
                    kw[name] = parse_number(text, label) if text else None
                elif kind == "band":
                    kw[name] = parse_band(text, label)
                elif kind is float:
                    kw[name] = parse_number(text, label)
                else:
                    kw[name] = text
            bounds, fixed = self.query_one(ParamTable).read()
            kw.update(self.query_one("#scoring").read())  # type: ignore[attr-defined]
        except ValueError as e:
            raise ConfigError(str(e)) from None
        kw.update(model_fields.read(self, bounds, fixed))
        # every field is the form's; the preset gives the search start, when its fitted parameters are still the form's
        return config_from_settings({**kw, "data": self.query_one("#data", Input).value.strip() or "bundled",
                                     "preset": str(self.query_one("#preset", Select).value),
                                     "optimizer": str(self.query_one("#optimizer", Select).value),
                                     "common_noise": self.query_one("#common_noise", Checkbox).value,
                                     "observe": str(self.query_one("#observe", Select).value),
                                     "initial": str(self.query_one("#initial", Select).value),
                                     "bounds": bounds, "fixed": fixed})

    @property
    def cluster(self) -> str | None:
        """The Ray cluster address to score batches on (``fit --cluster``), or None for this machine."""
        return self.query_one("#cluster", Input).value.strip() or None

    def validate(self) -> None:
        """Rebuild the configuration, show its problem inline and post ``Validated``."""
        try:
            self.config, self.problem = self.read(), None
        except ConfigError as e:
            self.config, self.problem = None, str(e)
        if self.problem is None and self.cluster and importlib.util.find_spec("ray") is None:
            self.problem = INSTALL_HINT
        if self.problem is None and self.data_problem:
            self.problem = self.data_problem if self.dataset is None and "checking" in self.data_problem \
                else f"dataset: {self.data_problem}"
        line = self.query_one("#form-problem", Static)
        line.update(Text(f"✗ {self.problem}", style="red") if self.problem else Text("✓ ready: F5 starts the fit", style="green"))
        self.post_message(self.Validated(self.config if self.problem is None else None, self.dataset, self.problem))
