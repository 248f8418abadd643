"""Held-out checks on a dataset's own scans: which scans a fit trains on and which it is tested on.

``odd-even``: scans 0, 2, 4, … train, scans 1, 3, 5, … test (scan order often follows sessions or days, so
every other scan spreads both over them); ``halves``: the first ⌈S/2⌉ scans train, the rest test (e.g. day 1
against day 2 when the scans are in day order). Either needs at least 2 scans. The training part is a
``Dataset`` of its own (``subset``): its target FC is the mean of the training scans' FCs only, so anything
derived from the fitted target (an FC gradient map, the structural baseline) never sees a test scan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from engine.data.dataset import DataError, Dataset, functional_connectivity


def _odd_even(n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(range(0, n, 2)), tuple(range(1, n, 2))


def _halves(n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    k = -(-n // 2)
    return tuple(range(k)), tuple(range(k, n))


#: Split modes: name → n_scans → (train indices, test indices).
SPLITS: Mapping[str, Callable[[int], tuple[tuple[int, ...], tuple[int, ...]]]] = MappingProxyType(
    {"odd-even": _odd_even, "halves": _halves})

#: The mode ``--split`` uses when given without one.
DEFAULT_SPLIT = "odd-even"


@dataclass(frozen=True, kw_only=True)
class Split:
    """A partition of a dataset's scans: ``train`` and ``test`` indices (disjoint, each non-empty)."""

    mode: str
    train: tuple[int, ...]
    test: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.train or not self.test or set(self.train) & set(self.test):
            raise ValueError(f"a split needs disjoint, non-empty train and test scans, got {self.train} / {self.test}")

    def describe(self) -> str:
        """E.g. 'odd-even: scans 0,2 train, 1,3 test'."""
        show = lambda ix: ",".join(str(i) for i in ix) if len(ix) <= 8 else f"{len(ix)} scans"  # noqa: E731
        return f"{self.mode}: scans {show(self.train)} train, {show(self.test)} test"


def make_split(mode: str, dataset: Dataset) -> Split:
    """The split ``mode`` of ``dataset``'s scans; a one-line DataError when it has fewer than 2 scans."""
    if mode not in SPLITS:
        raise DataError(f"unknown split {mode!r}; known: {', '.join(SPLITS)}")
    n = len(dataset.scans)
    if n < 2:
        what = "holds only an FC (no scans)" if n == 0 else "has 1 scan"
        raise DataError(f"--split needs at least 2 BOLD scans; {dataset.name} {what}: use --test DATA instead")
    train, test = SPLITS[mode](n)
    return Split(mode=mode, train=train, test=test)


def subset(dataset: Dataset, indices: tuple[int, ...], role: str) -> Dataset:
    """``dataset`` with only the scans ``indices``: its target FC is their mean per-scan FC."""
    scans = tuple(dataset.scans[i] for i in indices)
    fc = np.mean([functional_connectivity(s.T) for s in scans], axis=0)
    return dataclasses.replace(dataset, name=f"{dataset.name} [{role}]", scans=scans, target_fc=fc,
                               n_scans=len(scans), n_timepoints=min(s.shape[1] for s in scans),
                               fcd_values=None, fcd_window_tr=None, fcd_step_tr=None,
                               fcd_values_within=None,
                               subjects=None if dataset.subjects is None else tuple(dataset.subjects[i] for i in indices),
                               scan_cmats=None if dataset.scan_cmats is None else dataset.scan_cmats[list(indices)],
                               scan_dmats=None if dataset.scan_dmats is None else dataset.scan_dmats[list(indices)])
