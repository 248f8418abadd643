"""What the app shows of a study: one row per subject (status, evaluations, best loss, best FC correlation,
structural baseline), and whether a path given to ``attach`` is a run or a study."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, MutableMapping

import numpy as np

from engine.data.compare import matrix_corr
from engine.runs.layout import (
    BEST,
    DATASET_ARRAYS,
    DEFAULT_ROOT,
    MARKER,
    STATUS,
    TARGET_FC,
    RunError,
    check_marker,
    load_npy,
    read_json,
    resolve_run,
)
from engine.runs.listing import RunInfo
from engine.study.manifest import STUDY_FILE, is_study, load_study, subject_statuses

#: How the table names a subject's run status (a subject without a run yet is waiting).
SHOWN_STATUS = {"pending": "waiting", "finished": "done"}


@dataclass(frozen=True, kw_only=True)
class SubjectRow:
    """One subject of a study as the app's study table shows it."""

    name: str
    path: Path  # its run directory (absent while waiting)
    status: str  # done | running | waiting | stopped | failed | crashed
    evaluations: int
    budget: int
    best_loss: float | None
    best_fc_corr: float | None  # FC correlation r of its best candidate
    structural_baseline: float | None  # r of its structural matrix and its own target FC
    test_fc_corr: float | None = None  # its best candidate's r on held-out data (--split/--test), when checked
    edges: str = "all"  # the edges its r and baseline are on
    fresh_fc_corr: float | None = None  # the fresh-noise verdict's mean r of its best point (new seeds)
    fresh_fcd_ks: float | None = None  # its mean FCD KS
    fresh_mean_fc: float | None = None  # its mean model FC on the scored edges (the data's: ``data_mean_fc``)
    data_mean_fc: float | None = None
    map_alone: float | None = None  # the best r of a map the fit uses, alone (no dynamics)

    @property
    def has_run(self) -> bool:
        """Whether its run directory exists (it can be attached)."""
        return (self.path / MARKER).exists()


def _number(v: object) -> float | None:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def structural_baseline(run: Path) -> float | None:
    """Pearson r of a run's stored structural matrix and its target FC (None when unreadable)."""
    summary = (read_json(run / STATUS) or {}).get("summary") or {}
    if _number(summary.get("structural_baseline")) is not None:
        return _number(summary["structural_baseline"])
    target = load_npy(run / TARGET_FC)
    try:
        with np.load(run / DATASET_ARRAYS, allow_pickle=False) as z:
            cmat = np.asarray(z["Cmat"], np.float64)
    except (OSError, KeyError, ValueError):
        return None
    return None if target is None else _number(matrix_corr(cmat, target))


def study_rows(path: str | Path, baselines: MutableMapping[str, float | None] | None = None) -> list[SubjectRow]:
    """Every subject of the study at ``path`` with its status and best result; ``baselines`` caches the
    structural baselines between calls (they do not change while a subject runs)."""
    cache = {} if baselines is None else baselines
    rows = []
    for s in subject_statuses(path):
        corr = baseline = test_r = None
        edges = "all"
        fresh: dict = {}
        nulls: dict = {}
        if s.status != "pending":
            try:
                best = read_json(s.path / BEST) or {}
                summary = (read_json(s.path / STATUS) or {}).get("summary") or {}
            except RunError:  # a file caught half-written: this poll shows what it has
                best, summary = {}, {}
            corr = _number(summary["fc_corr"] if summary.get("fc_corr") is not None else best.get("fc_corr"))
            test_r = _number((summary.get("held_out") or {}).get("test_r"))
            edges = str(summary.get("edges") or "all")
            fresh = summary.get("fresh") or {}
            nulls = summary.get("map_baselines") or {}
            key = str(s.path)
            if key not in cache or cache[key] is None:
                cache[key] = structural_baseline(s.path)
            baseline = cache[key]
        rows.append(SubjectRow(name=s.name, path=s.path, status=SHOWN_STATUS.get(s.status, s.status),
                               evaluations=s.evaluations, budget=s.budget, best_loss=s.best_loss, best_fc_corr=corr,
                               structural_baseline=baseline, test_fc_corr=test_r, edges=edges,
                               fresh_fc_corr=_number(fresh.get("fc_corr_mean")),
                               fresh_fcd_ks=_number(fresh.get("fcd_ks_mean")),
                               fresh_mean_fc=_number(fresh.get("mean_fc_mean")),
                               data_mean_fc=_number(fresh.get("data_mean_fc")),
                               map_alone=max((x for x in map(_number, nulls.values()) if x is not None), default=None)))
    return rows


def attach_kind(path: str | Path) -> tuple[Literal["run", "study"], Path]:
    """Whether ``path`` (a directory, or a run's name under ./wcfit-runs) is a run or a study; RunError otherwise."""
    if is_study(path):
        return "study", Path(path).expanduser()
    try:
        run = resolve_run(path)
    except RunError:
        raise RunError(f"no run or study at {path}") from None
    try:
        check_marker(run)
    except RunError:
        raise RunError(f"{run} is neither a run directory ({MARKER}) nor a study ({STUDY_FILE})") from None
    return "run", run


def study_info(path: str | Path) -> RunInfo:
    """A study as one line of the app's run list: status "study", evaluations and budget over all its subjects,
    the best subject's loss and parameters."""
    p = Path(path).expanduser()
    manifest, config, _ = load_study(p)
    subjects = subject_statuses(p)
    done = [s for s in subjects if s.best_loss is not None]
    best = min(done, key=lambda s: s.best_loss) if done else None  # type: ignore[arg-type, return-value]
    finished = sum(1 for s in subjects if s.status == "finished")
    return RunInfo(name=p.name, path=p, status="study", evaluations=sum(s.evaluations for s in subjects),
                   budget=sum(s.budget for s in subjects), optimizer=config.optimizer,
                   best_loss=None if best is None else best.best_loss,
                   best_params=None if best is None else best.best_params,
                   started=_number(manifest.get("created")), duration_s=None,
                   reason=f"{finished} of {len(subjects)} subjects done")


def list_studies(root: str | Path | None = None) -> list[RunInfo]:
    """Every study directly under ``root`` (default ./wcfit-runs), as ``study_info`` gives it."""
    base = Path(root).expanduser() if root else DEFAULT_ROOT
    out = []
    for child in sorted(base.iterdir()) if base.is_dir() else ():
        if is_study(child):
            try:
                out.append(study_info(child))
            except (RunError, KeyError, ValueError, TypeError):
                continue
    return out
