"""What a report reads from a run directory: settings, the dataset as fitted, the candidates, the best and its FC."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.runs.layout import (
    BEST_SIGNAL,
    DATASET_ARRAYS,
    DATASET_INFO,
    LOG,
    MARKER,
    STATUS,
    TARGET_FC,
    WARNINGS,
    RunError,
    best_fc_of,
    candidate_rows,
    check_marker,
    load_config,
    load_npy,
    read_json,
    read_log,
)


@dataclass(frozen=True, kw_only=True)
class BestSignal:
    """The best candidate's sampled signal as the run kept it (``best_signal.npz``)."""

    signal: np.ndarray  # (S, N) before any band-pass
    tr_s: float
    evaluation: int


@dataclass(frozen=True, kw_only=True)
class RunData:
    """Everything a run's report draws, read once from its directory."""

    path: Path
    config: FitConfig
    dataset: Dataset
    info: Mapping[str, Any]  # dataset.json: name, source, N, scans, TR, labels, target FC SHA-256
    marker: Mapping[str, Any]  # wcfit-run.json
    status: Mapping[str, Any]  # status.json
    rows: list[dict[str, Any]]  # candidate rows in evaluation order
    target: np.ndarray  # the FC the fit was scored against (N, N)
    model: np.ndarray | None  # the best candidate's model FC
    best_signal: BestSignal | None
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The run's name (its directory name)."""
        return self.path.name

    @property
    def summary(self) -> Mapping[str, Any]:
        """The final summary (empty while running or after a crash)."""
        s = self.status.get("summary")
        return s if isinstance(s, Mapping) else {}

    @property
    def best(self) -> dict[str, Any] | None:
        """The best logged candidate (first minimum of the loss), or None before any."""
        return min(self.rows, key=lambda r: r["loss"]) if self.rows else None


def load_dataset(run: Path) -> Dataset:
    """The dataset as the run stored it (dataset.json and dataset.npz): structure, target, scans, labels."""
    info = read_json(run / DATASET_INFO) or {}
    try:
        with np.load(run / DATASET_ARRAYS, allow_pickle=False) as z:
            cmat, dmat, fc = (np.asarray(z[k], np.float64) for k in ("Cmat", "Dmat", "target_fc"))
            scans = tuple(np.asarray(z[f"BOLD_{i}"], np.float64)
                          for i in range(sum(1 for k in z.files if k.startswith("BOLD_"))))
            extra: dict[str, Any] = {}
            if "hemisphere" in z.files:
                extra["hemisphere"] = np.asarray(z["hemisphere"], np.int8)
            if "fcd_values" in z.files:
                extra.update(fcd_values=np.asarray(z["fcd_values"], np.float64),
                             fcd_window_tr=int(z["fcd_window_tr"]), fcd_step_tr=int(z["fcd_step_tr"]))
    except (OSError, KeyError, ValueError) as e:
        raise RunError(f"cannot read the dataset stored in {run / DATASET_ARRAYS}: {e}") from None
    labels, tr = info.get("labels"), info.get("tr_s")
    return Dataset(name=str(info.get("name", "dataset")), source=str(info.get("source", "")), cmat=cmat, dmat=dmat,
                   target_fc=fc, n_scans=int(info.get("n_scans", 0)), n_timepoints=int(info.get("n_timepoints", 0)),
                   scans=scans, tr_s=None if tr is None else float(tr),
                   labels=None if labels is None else tuple(str(x) for x in labels), **extra)


def load_best_signal(run: Path) -> BestSignal | None:
    """The best candidate's sampled signal, when the run kept one (runs since the report; local sampled fits)."""
    try:
        with np.load(run / BEST_SIGNAL, allow_pickle=False) as z:
            return BestSignal(signal=np.asarray(z["signal"], np.float64), tr_s=float(z["tr_s"]),
                              evaluation=int(z["evaluation"]))
    except (OSError, KeyError, ValueError):
        return None


def load_run(path: Path) -> RunData:
    """Read a run directory for its report; RunError when it is not one or has no target FC."""
    marker = check_marker(path)
    config = load_config(path)
    target = load_npy(path / TARGET_FC)
    if target is None:
        raise RunError(f"cannot read the target FC of {path}")
    rows = candidate_rows(read_log(path / LOG))
    best = min(rows, key=lambda r: r["loss"]) if rows else None
    model = best_fc_of(path, int(best["evaluation"])) if best else None
    warnings = [str(w.get("message", "")) for w in read_log(path / WARNINGS)]
    return RunData(path=path, config=config, dataset=load_dataset(path), info=read_json(path / DATASET_INFO) or {},
                   marker=marker, status=read_json(path / STATUS) or {}, rows=rows, target=target, model=model,
                   best_signal=load_best_signal(path), warnings=warnings)


def is_run(path: Path) -> bool:
    """Whether ``path`` carries a run directory's marker."""
    return (path / MARKER).is_file()
