"""The Explore view: nudge the parameters of one candidate and see its FC, FCD, BOLD and terms at once.

Each change simulates that one candidate in a thread (``engine.model.simulate.simulate``). JAX calls cannot be
interrupted, so one simulation runs at a time: a change made meanwhile bumps the generation and waits as the
single pending request (later changes replace it, nothing queues), and a result of an outdated generation is
dropped, never drawn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import jax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from engine.model import simulate as sim_module
from tui import signals
from tui.signals import is_sampled
from tui.widgets.bold_panel import BoldPanel
from tui.widgets.fc_heatmap import FCHeatmaps
from tui.widgets.fcd_panel import NO_SAMPLES, FCDPanel

#: Steps across a parameter's bounds: a coarse step is 1/20 of the range, a fine one 1/200.
COARSE, FINE = 20, 200

#: The shorter duration offered for speed (s of recorded signal after the transient).
SHORT_S = 60.0

#: What the shorter duration costs, measured on the bundled data (issue 12).
SHORT_COST = ("FC r is noisier at 60 s: at k=48 r was 0.33 at 60 s vs 0.58 at 400 s on the bundled data; "
              "check a point at the full duration before trusting it")


def steps(bounds: tuple[float, float]) -> tuple[float, float]:
    """(coarse, fine) step of a parameter with ``bounds``."""
    lo, hi = bounds
    return (hi - lo) / COARSE, (hi - lo) / FINE


def clamp(v: float, bounds: tuple[float, float]) -> float:
    """``v`` within ``bounds`` (a start point must lie inside them)."""
    return min(max(float(v), bounds[0]), bounds[1])


def short_config(config):
    """``config`` with at most ``SHORT_S`` s recorded after its transient (itself when already that short)."""
    ms = config.transient_ms + SHORT_S * 1000.0
    return config if config.duration_ms <= ms else config.replace(duration_ms=ms)


class ExploreControls(Widget, can_focus=True):
    """The parameters of the explored point, one selected; keys nudge it (see ``BINDINGS``)."""

    DEFAULT_CSS = "ExploreControls { height: auto; min-height: 4; width: 1fr; }"
    BINDINGS = [
        Binding("up", "select(-1)", "Previous parameter", show=False),
        Binding("down", "select(1)", "Next parameter", show=False),
        Binding("right,plus", "nudge(1, False)", "Step up", show=False),
        Binding("left,minus", "nudge(-1, False)", "Step down", show=False),
        Binding("shift+right,full_stop", "nudge(1, True)", "Fine up", show=False),
        Binding("shift+left,comma", "nudge(-1, True)", "Fine down", show=False),
        Binding("enter,equals_sign", "type_value", "Type a value", show=False),
    ]

    @dataclass
    class Nudged(Message):
        """The point changed (by a key or a typed value)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.bounds: dict[str, tuple[float, float]] = {}
        self.point: dict[str, float] = {}
        self.selected = 0

    def set_point(self, bounds: Mapping[str, tuple[float, float]], point: Mapping[str, float]) -> None:
        """Explore ``point`` (clamped into ``bounds``)."""
        self.bounds = {k: (float(a), float(b)) for k, (a, b) in bounds.items()}
        self.point = {n: clamp(point.get(n, sum(b) / 2), b) for n, b in self.bounds.items()}
        self.selected = min(self.selected, max(0, len(self.point) - 1))
        self.refresh(layout=True)

    @property
    def name(self) -> str | None:  # type: ignore[override]
        """The selected parameter."""
        names = list(self.point)
        return names[self.selected] if names else None

    def action_select(self, by: int) -> None:
        if self.point:
            self.selected = (self.selected + by) % len(self.point)
            self.refresh()

    def action_nudge(self, sign: int, fine: bool) -> None:
        """Move the selected parameter by one (fine) step."""
        n = self.name
        if n is None:
            return
        step = steps(self.bounds[n])[1 if fine else 0]
        new = clamp(self.point[n] + sign * step, self.bounds[n])
        if new != self.point[n]:
            self.point[n] = new
            self.refresh()
            self.post_message(self.Nudged())

    def set_value(self, value: float) -> None:
        """Set the selected parameter (clamped into its bounds)."""
        n = self.name
        if n is not None:
            self.point[n] = clamp(value, self.bounds[n])
            self.refresh()
            self.post_message(self.Nudged())

    def action_type_value(self) -> None:
        if self.name is not None:
            box = self.screen.query_one("#explore-value", Input)
            box.display = True
            box.value = f"{self.point[self.name]:g}"
            box.focus()

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.point)) + 1

    def render(self) -> Text:
        if not self.point:
            return Text("no point yet: p takes the form's point, b the best, c the candidate row", style="dim")
        t = Text(no_wrap=True, overflow="ellipsis")
        for i, (n, v) in enumerate(self.point.items()):
            lo, hi = self.bounds[n]
            coarse, fine = steps(self.bounds[n])
            mark = "▶" if i == self.selected else " "
            t.append(f"{mark} {n:<7} ", "bold reverse" if i == self.selected and self.has_focus else "bold")
            t.append(f"{v:<10.5g}", "bold")
            t.append(f" in [{lo:g}, {hi:g}]  ± {coarse:.3g} (fine {fine:.3g})\n", "dim")
        t.append("↑↓ parameter · ←→ step · shift/,. fine · enter type", "dim")
        return t


class ExploreView(Vertical):
    """Controls and facts on the left/top; FC, FCD and BOLD of the explored candidate."""

    DEFAULT_CSS = """
    ExploreView { height: 1fr; }
    ExploreView #explore-top { height: auto; }
    ExploreView #explore-left { width: 1fr; height: auto; border: round $accent; padding: 0 1; }
    ExploreView #explore-value { display: none; width: 30; }
    ExploreView #explore-facts { height: auto; width: 1fr; }
    ExploreView #explore-maps { border: round $secondary; }

    ExploreView #explore-fcd { width: 1fr; border: round $primary; }
    ExploreView #explore-bold { width: 1fr; border: round $secondary; }
    """

    BINDINGS = [
        Binding("p", "pick('form')", "Point of the form", show=False),
        Binding("b", "pick('best')", "The best", show=False),
        Binding("c", "pick('row')", "The candidate row", show=False),
        Binding("d", "duration", "Duration", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.config = None  # the configuration explored (fitted bounds, observation, objective, …)
        self.dataset = None
        self.short = False  # simulate SHORT_S s instead of the configured duration
        self.generation = 0
        self.running = False
        self.pending = False
        self.dropped = 0  # results of outdated generations thrown away
        self.shown_generation = -1
        self.last = None  # the Simulation drawn
        self.wall: dict[bool, float] = {}  # wall s of the last simulation per duration (short or full)
        self.device = ""
        self._empirical_key = None
        self._empirical = None
        self._started = 0.0
        self._progress = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            with Horizontal(id="explore-top"):
                with Vertical(id="explore-left"):
                    yield ExploreControls(id="explore-controls")
                    yield Input(id="explore-value", compact=True, placeholder="value, enter sets it")
                    yield Static(id="explore-facts")
            yield FCHeatmaps(id="explore-maps")
            with Horizontal(id="explore-sig"):
                yield FCDPanel(id="explore-fcd", model_title="model FCD")
                yield BoldPanel(id="explore-bold")

    def on_mount(self) -> None:
        self.query_one(FCHeatmaps).model_title = "model FC"
        self.query_one("#explore-left").border_title = "Explore (p form · b best · c row · d duration · ^f fit from here)"
        self._facts()

    def action_pick(self, source: str) -> None:
        """Explore the form's point, the best candidate, or the Candidates table's cursor row."""
        self.screen.explore_from(source)  # type: ignore[attr-defined]

    def action_duration(self) -> None:
        self.toggle_duration()

    # -- the point ----------------------------------------------------------------------------
    def explore(self, config, dataset, point: Mapping[str, float]) -> None:
        """Explore ``point`` under ``config`` on ``dataset``: simulate it at once."""
        self.config, self.dataset = config, dataset
        self.query_one(ExploreControls).set_point(config.bounds, point)
        self.query_one(FCHeatmaps).set_target(getattr(dataset, "target_fc", None), getattr(dataset, "labels", None))
        self.request()

    @property
    def point(self) -> dict[str, float]:
        """The explored point (fitted parameters)."""
        return dict(self.query_one(ExploreControls).point)

    def sim_config(self):
        """The configuration one simulation uses (the shorter duration when asked)."""
        return short_config(self.config) if self.short else self.config

    def toggle_duration(self) -> None:
        """Switch between the configured duration and the shorter one; simulate again."""
        if self.config is None:
            return
        if short_config(self.config) is self.config:
            self.app.notify(f"{self.config.duration_ms / 1000:g} s is already at most {SHORT_S:g} s after the transient",
                            timeout=3)
            return
        self.short = not self.short
        self.request()

    @on(ExploreControls.Nudged)
    def _nudged(self, event: ExploreControls.Nudged) -> None:
        event.stop()
        self.request()

    @on(Input.Submitted, "#explore-value")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        box = event.input
        try:
            value = float(box.value.strip())
        except ValueError:
            self.app.notify(f"not a number: {box.value.strip()!r}", severity="warning")
            return
        box.display = False
        controls = self.query_one(ExploreControls)
        controls.focus()
        controls.set_value(value)

    # -- simulation ---------------------------------------------------------------------------
    def request(self) -> None:
        """Simulate the current point: now, or after the simulation in flight (whose result is then dropped)."""
        if self.config is None or self.dataset is None:
            return
        self.generation += 1
        if self.running:
            self.pending = True
        else:
            self._launch()
        self._facts()

    def _launch(self) -> None:
        self.running, self.pending = True, False
        self._started, self._progress = time.monotonic(), ""
        gen, config, point = self.generation, self.sim_config(), self.point
        self.run_worker(lambda: self._simulate(gen, config, self.dataset, point), thread=True, group="explore",
                        exclusive=False, exit_on_error=False)

    def _simulate(self, gen: int, config, dataset, point: dict[str, float]) -> None:
        """In a thread: one simulation, then hand it to the UI (which drops it if outdated)."""
        sim = err = None
        emp = None
        try:
            def progress(ms: float) -> None:
                self.app.call_from_thread(self._progressed, gen, ms, config.duration_ms)

            sim = sim_module.simulate(config, dataset, point, progress=progress)
            emp = self._empirical_for(config, dataset)
            if not self.device:
                d = jax.devices()[0]
                self.device = f"{d.platform}" + (f" ({d.device_kind})" if d.platform != "cpu" else "")
        except Exception as e:  # noqa: BLE001 - a bad point is one line in the view, not a crash
            err = f"{type(e).__name__}: {e}".splitlines()[0]
        self.app.call_from_thread(self._done, gen, config, sim, emp, err)

    def _empirical_for(self, config, dataset):
        key = (id(dataset), config.fcd_window_s, config.fcd_step_s, config.bandpass_hz, config.tr_s, config.observe)
        if key != self._empirical_key:

            self._empirical = signals.empirical(config, dataset) if is_sampled(config) else None
            self._empirical_key = key
        return self._empirical

    def _progressed(self, gen: int, ms: float, total: float) -> None:
        if gen == self.generation:
            self._progress = f"{ms / 1000:.0f} / {total / 1000:.0f} s simulated"
            self._facts()

    def _done(self, gen: int, config, sim, emp, err: str | None) -> None:
        self.running = False
        if gen != self.generation:
            self.dropped += 1  # outdated: a newer point was asked for meanwhile
        elif err is not None:
            self.shown_generation = gen
            self.app.notify(f"simulation failed: {err}", severity="error", timeout=8)
        else:
            self.shown_generation, self.last = gen, sim
            self.wall[config is not self.config] = sim.wall_s
            self._show(config, sim, emp)
        if self.pending:
            self._launch()
        self._facts()

    def _show(self, config, sim, emp) -> None:
        maps = self.query_one(FCHeatmaps)
        maps.set_target(sim.target_fc, getattr(self.dataset, "labels", None))
        maps.set_model(sim.fc, sim.fc_corr)
        note = "" if is_sampled(config) else NO_SAMPLES
        model = None
        if not note and sim.bold.shape[0] > 1:
            tr = float(sim.t_bold[1] - sim.t_bold[0]) / 1000.0
            fcd = sim.fcd if sim.fcd.size else signals.host_fcd_matrix(sim.bold, sim.fcd_window, sim.fcd_step)
            model = signals.Model(series=sim.bold, tr_s=tr, fcd=fcd, window=sim.fcd_window, step=sim.fcd_step)
        self.query_one(FCDPanel).show(model, emp, note)
        self.query_one(BoldPanel).set(model, emp, getattr(self.dataset, "labels", None), note)

    def _facts(self) -> None:
        t = Text()
        if self.config is not None:
            c = self.sim_config()
            dur = f"{c.duration_ms / 1000:g} s ({c.transient_ms / 1000:g} s transient)"
            t.append("duration ", "bold")
            hint = ("  [short: d for full]" if self.short else
                    "" if short_config(self.config) is self.config else f"  [d: {SHORT_S:g} s for speed]")
            t.append(dur + hint + "\n")
            if self.short:
                t.append(SHORT_COST + "\n", "yellow")
            for short, wall in sorted(self.wall.items()):
                t.append("one candidate ", "bold")
                t.append(f"{wall:.2f} s wall on {self.device or 'this device'} "
                         f"({'short' if short else 'full'} duration; the first includes compiling)\n")
        if self.running:
            waited = time.monotonic() - self._started
            t.append(f"simulating… {self._progress or ''} {waited:.0f} s", "bold cyan")
            if self.pending:
                t.append(" · a newer point waits (this result will be dropped)", "cyan")
            t.append("\n")
        s = self.last
        if s is not None:
            stale = " (an older point)" if self.shown_generation != self.generation else ""
            t.append("scores ", "bold")
            terms = " · ".join(f"{k} {v:.4f}" for k, v in s.terms.items())
            t.append(f"loss {s.loss:.4f} · {terms} · FC r {s.fc_corr:.3f} · structure alone r "
                     f"{s.structural_baseline:.3f}{' · ' + s.flag if s.flag else ''}{stale}")
        self.query_one("#explore-facts", Static).update(t)

    def tick(self) -> None:
        """Refresh the elapsed time of a simulation in flight (10 Hz timer)."""
        if self.running:
            self._facts()
