"""Compact dashboard panels of the Fit tab: best candidates, run/throughput facts, and the end-of-run summary."""

from __future__ import annotations

import heapq

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from tui.scoring_text import result_lines

#: Rows kept by the best-candidates panel (it shows as many as fit).
TOP_KEEP = 60


def _fmt(v: float) -> str:
    v = float(v)
    return f"{v:.4g}" if v == 0 or 1e-3 <= abs(v) < 1e5 else f"{v:.3e}"


def params_text(params) -> str:
    """``k=2.98  sigma=0.05`` for a parameter mapping."""
    return "  ".join(f"{k}={_fmt(v)}" for k, v in (params or {}).items())


#: Columns a fitted parameter's value needs in the best-candidates table (e.g. "-0.776", "53.39").
PARAM_WIDTH = 7


class TopCandidates(Widget):
    """The best candidates so far (lowest loss first), as many rows as the panel has room for."""

    DEFAULT_CSS = "TopCandidates { height: 1fr; width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names: tuple[str, ...] = ()
        self._heap: list[tuple[float, int, tuple[float, ...], float]] = []  # max-heap by −loss; last: FC r
        self.total = 0

    def on_mount(self) -> None:
        self.border_title = "Best candidates"

    def reset(self, names: tuple[str, ...] = ()) -> None:
        """Forget all rows; ``names`` are the fitted parameters."""
        self.names, self._heap, self.total = tuple(names), [], 0
        self.refresh()

    def add_batch(self, first: int, names: tuple[str, ...], values: np.ndarray, losses: np.ndarray,
                  flags: tuple[str, ...], terms=None) -> None:
        """Add one evaluated batch (diverged candidates are counted, not listed); with objective ``terms`` the r
        column is 1 − the fc term (blank when the run has no fc term), else 1 − the loss."""
        if tuple(names) != self.names:
            self.reset(tuple(names))
        vals = np.asarray(values, float).reshape(len(losses), -1)
        terms = dict(terms or {})
        fc = np.asarray(terms["fc"], float).reshape(-1) if "fc" in terms else None
        for i, loss in enumerate(losses):
            self.total += 1
            flag = flags[i] if i < len(flags) else ""
            if flag:
                continue
            r = 1.0 - float(loss) if not terms else (1.0 - float(fc[i]) if fc is not None else float("nan"))
            item = (-float(loss), -(first + i), tuple(map(float, vals[i])), r)
            if len(self._heap) < TOP_KEEP:
                heapq.heappush(self._heap, item)
            elif item > self._heap[0]:
                heapq.heapreplace(self._heap, item)
        self.refresh()

    def rows(self) -> list[tuple[int, float, tuple[float, ...]]]:
        """(evaluation number from 1, loss, values), best first."""
        return [(-e + 1, -nl, v) for nl, e, v, _r in sorted(self._heap, reverse=True)]

    def corrs(self) -> list[float]:
        """FC correlation r of each row of ``rows`` (NaN when the run scores no fc term)."""
        return [r for _nl, _e, _v, r in sorted(self._heap, reverse=True)]

    def render(self) -> Table | Text:
        if not self._heap:
            return Text("no candidates yet", style="dim")
        t = Table(box=None, padding=(0, 1), expand=True, header_style="bold", show_edge=False)
        t.add_column("#", justify="right", no_wrap=True)
        t.add_column("loss", justify="right", no_wrap=True)
        t.add_column("r", justify="right", no_wrap=True)
        shown = self.shown_params(self.size.width)
        hidden = len(self.names) - shown
        for n in self.names[:shown]:
            t.add_column(n, justify="right", no_wrap=True, min_width=PARAM_WIDTH, overflow="ellipsis")
        if hidden:
            t.add_column(f"+{hidden}", no_wrap=True)  # the rest: the Candidates tab (F4) lists every parameter
        room = max(1, self.size.height - 1)
        for rank, ((ev, loss, vals), r) in enumerate(zip(self.rows()[:room], self.corrs())):
            style = "bold green" if rank == 0 else ""
            t.add_row(str(ev), f"{loss:.4f}", "—" if np.isnan(r) else f"{r:.3f}",
                      *(_fmt(v) for v in vals[:shown]), *(["…"] if hidden else []), style=style)
        return t

    def shown_params(self, width: int) -> int:
        """How many parameter columns fit ``width`` beside #, loss and r at PARAM_WIDTH each (the rest are counted
        in a last "+N" column rather than squeezed to unreadable ellipses)."""
        room = width - 4 - 7 - 6  # "#", "loss", "r" with their padding
        fit = max(0, room // (PARAM_WIDTH + 1))
        if fit < len(self.names):
            fit = max(0, (room - 4) // (PARAM_WIDTH + 1))  # leave room for the "+N" column
        return min(len(self.names), fit)


def terms_text(summary) -> str:
    """The best candidate's objective terms and the structure-alone baseline, e.g.
    ``terms fc 0.41 · fcd_ks 0.22   structure alone r 0.35``; "" when the summary has neither."""
    parts = []
    terms = dict(getattr(summary, "best_terms", None) or {})
    if terms:
        parts.append("terms " + " · ".join(f"{k} {v:.4f}" for k, v in terms.items()))
    base = getattr(summary, "structural_baseline", None)
    if base is not None:
        parts.append(f"structure alone r {base:.3f}")
    return "   ".join(parts)


def summary_renderable(summary, warnings: list[str] | tuple[str, ...] = (), *, compact: bool = False) -> Group:
    """The outcome of a run: status, best parameters, loss and FC r, the optimizer's recommendation, warnings."""
    s = summary
    style = {"finished": "bold green", "stopped": "bold yellow"}.get(s.status, "bold red")
    head = Text.assemble((f"{s.status.upper()}", style), f": {s.reason} — {s.evaluations} evaluations in {s.wall_s:.1f} s",
                         ("   (F7 exports)" if compact else ""))
    lines: list[Text] = [head]
    if s.best_loss is not None:
        r = s.best_corr
        lines.append(Text.assemble(("best ", "bold"), (params_text(s.best_params), "bold"),
                                   f"   loss {s.best_loss:.4f} · FC r {'—' if r is None else f'{r:.3f}'}"
                                   + (f" · {s.nan_candidates} diverged" if s.nan_candidates and compact else "")))
    extra = terms_text(s)
    if extra:
        lines.append(Text(extra))
    lines.extend(Text(t) for t in result_lines(s))
    if s.recommendation:
        rl = "not evaluated" if s.recommendation_loss is None else f"loss {s.recommendation_loss:.4f}"
        lines.append(Text(f"{'NG recommends' if compact else 'Nevergrad recommends'} "
                          f"{params_text(s.recommendation)}   {rl}"))
    if s.nan_candidates and not compact:
        lines.append(Text(f"{s.nan_candidates} candidate(s) diverged (NaN/flat) and got the worst loss", style="yellow"))
    seen: list[str] = []
    for w in (*warnings, *s.warnings):
        if w not in seen:
            seen.append(w)
    for w in seen:
        lines.append(Text.assemble(("⚠ WARNING ", "bold reverse yellow"), (" " + w, "bold yellow")))
    return Group(*lines)


class SummaryPanel(Static):
    """The end-of-run summary (hidden until a run ends)."""

    def __init__(self, *, compact: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.compact = compact
        self.summary = None

    def on_mount(self) -> None:
        self.border_title = "Result"

    def show(self, summary, warnings: list[str] | tuple[str, ...] = ()) -> None:
        """Show ``summary`` (None hides the panel)."""
        self.summary = summary
        self.set_class(summary is not None, "has-result")  # CSS shows it (narrow layout only)
        if summary is not None:
            self.update(summary_renderable(summary, warnings, compact=self.compact))


class RunPanel(Static):
    """Device and live throughput of the current run, and its summary once it ends."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.device = ""
        self.progress = ""
        self.throughput = ""
        self.timing = ""
        self.summary = None
        self.warnings: list[str] = []

    def on_mount(self) -> None:
        self.border_title = "Run"
        self._show()

    def reset(self) -> None:
        """Back to the idle text."""
        self.device = self.progress = self.throughput = self.timing = ""
        self.summary, self.warnings = None, []
        self._show()

    def set_device(self, device: str) -> None:
        self.device = device
        self._show()

    def set_segment(self, text: str) -> None:
        """Progress inside the batch in flight (from SegmentSimulated)."""
        self.progress = text
        self._show()

    def set_batch(self, evaluations: int, budget: int | None, cand_s: float, sim_s: float, wall_s: float,
                  compile_s: float) -> None:
        """Show the latest batch's progress and throughput."""
        pct = f" ({100 * evaluations / budget:.0f}%)" if budget else ""
        self.progress = f"{evaluations}/{budget or '?'} evaluations{pct}"
        self.throughput = f"{cand_s:,.1f} cand/s · {sim_s:,.1f} sim s/s"
        self.timing = f"last batch {wall_s:.2f} s" + (f" (compile {compile_s:.1f} s)" if compile_s else "")
        self._show()

    def set_summary(self, summary, warnings: list[str]) -> None:
        self.summary, self.warnings = summary, list(warnings)
        self._show()

    def _show(self) -> None:
        facts = Text()
        if not (self.device or self.progress):
            facts.append("no fit yet — F5 starts one", "dim")
        for label, value in (("device", self.device), ("progress", self.progress), ("speed", self.throughput),
                             ("timing", self.timing)):
            if value:
                facts.append(f"{label:<9}", "bold")
                facts.append(value + "\n")
        facts.rstrip()
        if self.summary is None:
            self.update(facts)
        else:
            self.update(Group(facts, Text(""), summary_renderable(self.summary, self.warnings)))
