"""A recorded fit run from the command line: a rich progress bar on stderr, Ctrl-C to stop, the one summary printer."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from engine.data.dataset import Dataset
from engine.events import (
    BatchEvaluated,
    Compiling,
    Ended,
    Event,
    SegmentSimulated,
    Summary,
    Verifying,
    Warned,
)
from engine.proposers import budget_of
from engine.runner import RecordedFit
from engine.runs import summary_to_dict
from tui.cli.options.map_control import control_lines
from tui.cli.options.scoring import summary_lines


def run_with_progress(fit: RecordedFit, *, quiet: bool = False) -> Summary | None:
    """Run ``fit`` in a worker thread with a progress bar on stderr; Ctrl-C stops it after the current batch."""
    console = Console(stderr=True)
    done = fit.resume.evaluations if fit.resume is not None else 0
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=console,
                  disable=quiet, transient=False) as bar:
        task = bar.add_task("fit", total=budget_of(fit.config), completed=done, status="starting")

        def show(event: Event) -> None:
            if isinstance(event, Compiling):
                bar.update(task, status=f"compiling batch of {event.batch}…")
            elif isinstance(event, SegmentSimulated):
                part = event.batch_size * event.simulated_ms / event.duration_ms
                bar.update(task, completed=event.evaluations_done + part,
                           status=f"batch {event.batch_index + 1}: {event.simulated_ms / 1000:.0f} / "
                                  f"{event.duration_ms / 1000:.0f} s simulated")
            elif isinstance(event, BatchEvaluated):
                bar.update(task, completed=event.evaluations,
                           status=f"best loss {event.best_loss:.4f} · {event.candidates_per_s:.2f} cand/s")
            elif isinstance(event, Verifying):
                bar.update(task, status="fresh-noise verdict…")
                bar.console.print(event.message)
            elif isinstance(event, Warned):
                bar.console.print(f"[yellow]warning:[/] {event.message}")

        ended = threading.Event()  # set after every listener (the recorder too) has seen the terminal event

        def end(event: Event) -> None:
            if isinstance(event, Ended):
                ended.set()

        fit.listeners[:0] = [show]
        fit.listeners.append(end)
        thread = fit.start()
        # wait on the event, not in thread.join(timeout): on Python 3.11 a Ctrl-C inside join() marks the still running
        # thread as stopped (bpo-45274's handler), so the fit returned without its summary (exit 1, a traceback)
        try:
            while not ended.wait(0.2) and thread.is_alive():
                pass
        except KeyboardInterrupt:
            console.print("stopping after the current batch…")
            fit.cancel()
            while not ended.wait(0.2) and thread.is_alive():
                pass
        thread.join()
    return fit.summary


def print_summary(summary: Summary, dataset: Dataset, as_json: bool, run_path: Path | None,
                  map_control: dict[str, Any] | None = None) -> None:
    """The summary of a fit on stdout: aligned lines, or one JSON object (with the map control's verdict, if run)."""
    if as_json:
        d = summary_to_dict(summary)
        d["dataset"] = dataset.name
        d["run_dir"] = str(run_path) if run_path else None
        if map_control is not None:
            d["map_control"] = map_control
        print(json.dumps(d))
        return
    params = ", ".join(f"{k} = {v:.6g}" for k, v in (summary.best_params or {}).items()) or "—"
    rec = ", ".join(f"{k} = {v:.6g}" for k, v in (summary.recommendation or {}).items()) or "—"
    lines = [
        f"status          {summary.status} ({summary.reason})",
        f"best            {params}",
        (f"loss            {summary.best_loss:.6f}  (the search's best of {summary.evaluations} candidates"
         + (", one noise seed)" if summary.realizations == 1 else f", {summary.realizations} noise seeds)"))
        if summary.best_loss is not None else "loss            —",
        f"FC correlation  {summary.best_corr:.6f}" if summary.best_corr is not None else "FC correlation  —",
        *(["terms           " + ", ".join(f"{k} {v:.6f}" for k, v in summary.best_terms.items())]
          if summary.best_terms and len(summary.best_terms) > 1 else []),
        *([f"structure alone {summary.structural_baseline:.6f}  (corr of Cmat with the target FC)"]
          if summary.structural_baseline is not None else []),
        *summary_lines(summary),
        f"recommendation  {rec}" + (f"  (loss {summary.recommendation_loss:.6f})" if summary.recommendation_loss is not None else ""),
        f"evaluations     {summary.evaluations}" + (f" ({summary.nan_candidates} diverged)" if summary.nan_candidates else ""),
        f"wall time       {summary.wall_s:.1f} s",
        f"device          {summary.device}",
        f"dataset         {dataset.name} (N = {dataset.n_nodes})",
    ]
    if run_path:
        lines.append(f"run directory   {run_path}")
    lines += [f"warning         {w}" for w in summary.warnings]
    if map_control is not None:
        lines += control_lines(map_control)
    print("\n".join(lines))
