"""A study's subjects: one per scan, or scans grouped by the data's ``subjects`` array; each subject's own dataset
(its own scans' FC, and its own structure where the data gives each scan one: ``Cmats``/``Dmats``)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Sequence

from engine.config import ConfigError
from engine.data.cohort import scans_structure
from engine.data.dataset import DataError, Dataset
from engine.data.split import subset

PER = ("scan", "subject")


@dataclass(frozen=True, kw_only=True)
class Subject:
    """One subject of a study: its run name and the dataset scans that make its target FC."""

    name: str
    scans: tuple[int, ...]


def split_subjects(dataset: Dataset, per: str, ids: Sequence[str] | None = None) -> list[Subject]:
    """The study's subjects: one per scan, or scans grouped by their subject id (``ids``, else the data's own)."""
    if dataset.n_scans == 0 or not dataset.scans:
        raise DataError(f"{dataset.name} has no BOLD scans (only a precomputed FC): a study needs one scan per subject")
    if per not in PER:
        raise ConfigError(f"--per takes scan or subject, got {per!r}")
    n = len(dataset.scans)
    ids = dataset.subjects if ids is None else ids
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
    """The dataset of one subject: the target FC of its own scans only, on its own structure where the data gives
    each scan one (``Cmats``/``Dmats``; its scans must share it), else on the data's ``Cmat`` and ``Dmat``."""
    cmat, dmat = scans_structure(dataset.scan_cmats, dataset.scan_dmats, subject.scans, who=subject.name)
    own = subset(dataset, subject.scans, subject.name)  # its scans, their FC and per-scan fields; no group FCD
    return dataclasses.replace(own, name=f"{dataset.name} {subject.name}", cmat=dataset.cmat if cmat is None else cmat,
                               dmat=dataset.dmat if dmat is None else dmat)
