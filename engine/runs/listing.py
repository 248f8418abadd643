"""Listing runs: each run directory's status, progress and best result."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from engine.runs.layout import (
    BEST,
    DEFAULT_ROOT,
    LOG,
    MARKER,
    STATUS,
    RunError,
    candidate_rows,
    check_marker,
    load_config,
    read_json,
    read_log,
)
from engine.runs.lock import lock_holder

#: How each listed status is shown (a rich style), by ``wcfit-tui runs`` and the app's tables alike.
STATUS_STYLE = {"running": "bold green", "finished": "cyan", "stopped": "yellow", "failed": "red", "crashed": "bold red",
                "study": "bold magenta"}


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    """One run as ``wcfit-tui runs`` lists it."""

    name: str
    path: Path
    status: str  # running | finished | stopped | failed | crashed (| study, in the listings that include studies)
    evaluations: int
    budget: int
    optimizer: str
    best_loss: float | None
    best_params: Mapping[str, float] | None
    started: float | None  # epoch seconds
    duration_s: float | None
    reason: str = ""
    pid: str | None = None


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return 0


def run_info(path: str | Path) -> RunInfo:
    """Status, progress and best result of one run directory."""
    run = Path(path)
    check_marker(run)
    status = read_json(run / STATUS) or {}
    state = str(status.get("status", "running"))
    holder = lock_holder(run)
    if state == "running" and holder is None:
        state = "crashed"
    try:
        cfg = load_config(run)
        budget, optimizer = cfg.budget, cfg.optimizer
    except RunError:
        budget, optimizer = 0, "?"
    summary = status.get("summary") or {}
    best = read_json(run / BEST) or {}
    evaluations = len(candidate_rows(read_log(run / LOG))) if state != "finished" else \
        int(summary.get("evaluations", 0))
    best_loss = summary.get("best_loss", best.get("loss")) if summary else best.get("loss")
    best_params = summary.get("best_params") if summary else best.get("params")
    started = status.get("started") or status.get("created")
    if state == "running" and started:
        duration: float | None = time.time() - float(started)
    elif summary:
        duration = float(summary.get("wall_s", 0.0))
    elif started:  # crashed: up to the last thing it wrote
        try:
            last = max(float(status.get("updated") or started), os.stat(run / LOG).st_mtime)
        except OSError:
            last = float(status.get("updated") or started)
        duration = last - float(started)
    else:
        duration = None
    return RunInfo(name=run.name, path=run, status=state, evaluations=evaluations, budget=budget,
                   optimizer=optimizer, best_loss=best_loss, best_params=best_params,
                   started=float(started) if started else None, duration_s=duration,
                   reason=str(status.get("reason") or ""), pid=holder or (str(status.get("pid")) if status else None))


def list_runs(root: str | Path | None = None) -> list[RunInfo]:
    """Every run directory directly under ``root`` (default ./wcfit-runs), oldest first."""
    base = Path(root).expanduser() if root else DEFAULT_ROOT
    if not base.is_dir():
        raise RunError(f"no runs directory at {base}")
    out = []
    for child in sorted(base.iterdir()):
        if child.is_dir() and (child / MARKER).exists():
            try:
                out.append(run_info(child))
            except RunError:
                continue
    return sorted(out, key=lambda r: (r.started or 0.0, r.name))
