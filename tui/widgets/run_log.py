"""The run log: events, warnings (best on a bound, NaN candidates) and errors, time-stamped."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

from engine.events import BatchEvaluated, Compiling, Ended, Event, Failed, NewBest, Started, Verifying, Warned
from engine.summary_text import verdict_lines


def _params(p) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in (p or {}).items())


class RunLog(RichLog):
    """A RichLog that renders engine events as one line each."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, max_lines=5000, min_width=20)

    def line(self, text: str, style: str = "", when: float | None = None) -> None:
        """Write one time-stamped line."""
        stamp = time.strftime("%H:%M:%S", time.localtime(when or time.time()))
        self.write(Text.assemble((stamp + " ", "dim"), (text, style)))

    def event(self, e: Event) -> None:
        """Log one engine event."""
        if isinstance(e, Started):
            c = e.config
            self.line(f"started {c.optimizer} on {e.dataset}: fit {', '.join(c.names)}; batch {c.batch}, "
                      f"budget {c.budget}, {c.duration_ms:g} ms at dt {c.dt_ms:g} ms; device {e.device}", "bold", e.time)
        elif isinstance(e, Compiling):
            self.line(f"compiling the objective for batch {e.batch} (first call; can take a while)", "", e.time)
        elif isinstance(e, BatchEvaluated):
            comp = f", compile {e.compile_s:.1f} s" if e.compile_s else ""
            self.line(f"batch {e.batch_index + 1}: {len(e.losses)} candidates in {e.wall_s:.2f} s{comp}; "
                      f"best loss {e.best_loss:.4f}; {e.candidates_per_s:.1f} cand/s", "", e.time)
        elif isinstance(e, NewBest):
            self.line(f"new best #{e.evaluation + 1}: loss {e.loss:.4f} (FC r {e.fc_corr:.3f}) {_params(e.params)}",
                      "green", e.time)
        elif isinstance(e, Verifying):
            self.line(e.message, "", e.time)
        elif isinstance(e, Warned):
            self.line(f"warning: {e.message}", "yellow", e.time)
        elif isinstance(e, Ended):
            s = e.summary
            style = "bold red" if isinstance(e, Failed) else "bold"
            self.line(f"{s.status}: {s.reason}; {s.evaluations} evaluations in {s.wall_s:.1f} s", style, e.time)
            if s.best_loss is not None:
                r = "—" if s.best_corr is None else f"{s.best_corr:.3f}"
                self.line(f"best loss {s.best_loss:.4f} (best of {s.evaluations}, one noise seed), FC r {r}: "
                          f"{_params(s.best_params)}", "bold green", e.time)
            for label, text in verdict_lines(s):
                self.line(f"{label.strip()}: {text}" if label.strip() else text, "", e.time)
            if s.nan_candidates:
                self.line(f"warning: {s.nan_candidates} candidate(s) diverged (NaN)", "yellow", e.time)
