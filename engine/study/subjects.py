"""A study's subjects: one per scan, or scans grouped by the data's ``subjects`` array; each subject's own dataset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.config import ConfigError
from engine.data.dataset import DataError, Dataset, functional_connectivity, read_arrays

PER = ("scan", "subject")


@dataclass(frozen=True, kw_only=True)
class Subject:
    """One subject of a study: its run name and the dataset scans that make its target FC."""

    name: str
    scans: tuple[int, ...]


def subject_ids(source: str) -> list[str] | None:
    """The data file's ``subjects`` array (one id per scan), or None when it has none."""
    if not source or source.strip().lower() in ("", "bundled") or source.startswith("kaggle:"):
        return None
    raw = read_arrays(Path(source).expanduser())
    ids = raw.get("subjects") if hasattr(raw, "get") else None
    if ids is None:
        return None
    return [str(x) for x in np.asarray(ids).ravel().tolist()]


def split_subjects(dataset: Dataset, per: str, ids: Sequence[str] | None = None) -> list[Subject]:
    """The study's subjects: one per scan, or scans grouped by their subject id."""
    if dataset.n_scans == 0 or not dataset.scans:
        raise DataError(f"{dataset.name} has no BOLD scans (only a precomputed FC): a study needs one scan per subject")
    if per not in PER:
        raise ConfigError(f"--per takes scan or subject, got {per!r}")
    n = len(dataset.scans)
    if per == "scan" or ids is None:
        return [Subject(name=f"subject-{i:03d}", scans=(i,)) for i in range(n)]
    if len(ids) != n:
        raise DataError(f"the data's subjects array has {len(ids)} ids for {n} scans")
    groups: dict[str, list[int]] = {}
    for i, sid in enumerate(ids):
        groups.setdefault(sid, []).append(i)
    out = []
    for sid, scans in groups.items():
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", sid).strip("_") or "x"
        out.append(Subject(name=f"subject-{safe}", scans=tuple(scans)))
    return out


def subject_dataset(dataset: Dataset, subject: Subject) -> Dataset:
    """The dataset of one subject: the same structure, the target FC of its own scans only."""
    scans = tuple(dataset.scans[i] for i in subject.scans)
    fc = np.mean([functional_connectivity(s.T) for s in scans], axis=0)
    return Dataset(name=f"{dataset.name} {subject.name}", source=dataset.source, cmat=dataset.cmat,
                   dmat=dataset.dmat, target_fc=fc, n_scans=len(scans), n_timepoints=min(s.shape[1] for s in scans),
                   scans=scans, tr_s=dataset.tr_s, labels=dataset.labels, hemisphere=dataset.hemisphere)
