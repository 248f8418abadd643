"""A recorded run read back for comparison: its best-so-far curve, best candidate and terms."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from engine.runs import LOG, read_log
from tui.widgets.loss_plot import thin


@dataclass(frozen=True, kw_only=True)
class RunCurve:
    """One run's best loss after each evaluation (thinned to at most 1,000 points) and its best candidate."""

    name: str
    path: str
    status: str
    optimizer: str
    evaluations: np.ndarray  # 1-based evaluation numbers of the kept points
    best_so_far: np.ndarray
    count: int  # evaluations in the log
    best_loss: float | None
    best_params: Mapping[str, float]
    best_terms: Mapping[str, float]  # objective terms of the best candidate, when the log carries them

    @property
    def fc_r(self) -> float | None:
        """FC correlation of the best candidate: 1 − its fc term, or 1 − its loss for an fc-only objective."""
        if "fc" in self.best_terms:
            return 1.0 - float(self.best_terms["fc"])
        if self.best_loss is None or self.best_terms:
            return None
        return 1.0 - self.best_loss


def _candidates(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Well-formed candidate rows, the first of each evaluation number, in evaluation order."""
    seen: dict[int, dict[str, Any]] = {}
    for r in rows:
        ev, loss = r.get("evaluation"), r.get("loss")
        if isinstance(ev, int) and isinstance(loss, (int, float)) and isinstance(r.get("params"), dict):
            seen.setdefault(ev, r)
    return [seen[k] for k in sorted(seen)]


def load_run(info) -> RunCurve:
    """Read a run's log (``info``: an ``engine.runs.RunInfo``) into its best-so-far curve and best candidate."""
    rows = _candidates(read_log(info.path / LOG))
    ev = np.array([r["evaluation"] + 1 for r in rows], np.int64)
    loss = np.array([float(r["loss"]) if not r.get("flag") else math.inf for r in rows], np.float64)
    best_params: Mapping[str, float] = dict(info.best_params or {})
    best_loss, best_terms = info.best_loss, {}
    if len(loss) and np.isfinite(loss).any():
        i = int(np.argmin(loss))
        best_loss = float(loss[i])
        best_params = {k: float(v) for k, v in rows[i]["params"].items()}
        terms = rows[i].get("terms")
        best_terms = {str(k): float(v) for k, v in terms.items()} if isinstance(terms, dict) else {}
    curve = np.minimum.accumulate(loss) if len(loss) else loss
    finite = np.isfinite(curve)
    keep = thin(int(finite.sum()))
    return RunCurve(name=info.name, path=str(info.path), status=info.status, optimizer=info.optimizer,
                    evaluations=ev[finite][keep], best_so_far=curve[finite][keep], count=len(rows),
                    best_loss=None if best_loss is None else float(best_loss), best_params=best_params,
                    best_terms=best_terms)
