"""Every evaluated candidate of a run, kept as growing arrays: values, loss, flags and per-term values."""

from __future__ import annotations

from typing import Mapping

import numpy as np

#: The quantity every run has; objective terms (e.g. "fc", "fcd_ks") come from the events when they carry them.
LOSS = "loss"


class History:
    """Candidates in evaluation order; ``quantity(name)`` is the loss or one objective term (NaN where unknown)."""

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        self.names = tuple(names)
        self.term_names: tuple[str, ...] = ()
        self.version = 0
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]] = []
        self._cat: tuple[int, dict[str, np.ndarray]] | None = None

    def add(self, first: int, values: np.ndarray, losses: np.ndarray, flags: tuple[str, ...] = (),
            terms: Mapping[str, np.ndarray] | None = None) -> None:
        """Append one batch; flagged candidates ("nan", "flat": they got the worst loss) are marked not ok."""
        losses = np.asarray(losses, np.float64).reshape(-1)
        n = len(losses)
        ok = np.isfinite(losses)
        for i, f in enumerate(tuple(flags)[:n]):
            ok[i] &= not f
        vals = np.asarray(values, np.float64).reshape(n, -1)
        t = {str(k): np.asarray(v, np.float64).reshape(-1)[:n] for k, v in dict(terms or {}).items()}
        for k in t:
            if k not in self.term_names:
                self.term_names += (k,)
        self._chunks.append((np.arange(first + 1, first + n + 1), vals, losses, ok, t))
        self.version += 1

    def __len__(self) -> int:
        return int(sum(len(c[2]) for c in self._chunks))

    @property
    def quantities(self) -> tuple[str, ...]:
        """"loss" and every objective term seen so far."""
        return (LOSS, *self.term_names)

    def _arrays(self) -> dict[str, np.ndarray]:
        if self._cat is None or self._cat[0] != self.version:
            p = len(self.names)
            if self._chunks:
                out = {"evaluation": np.concatenate([c[0] for c in self._chunks]),
                       "values": np.concatenate([c[1] for c in self._chunks]),
                       LOSS: np.concatenate([c[2] for c in self._chunks]),
                       "ok": np.concatenate([c[3] for c in self._chunks])}
            else:
                out = {"evaluation": np.zeros(0, int), "values": np.zeros((0, p)), LOSS: np.zeros(0),
                       "ok": np.zeros(0, bool)}
            for k in self.term_names:
                out["term:" + k] = np.concatenate([c[4].get(k, np.full(len(c[2]), np.nan)) for c in self._chunks])
            self._cat = (self.version, out)
        return self._cat[1]

    @property
    def evaluations(self) -> np.ndarray:
        """1-based evaluation numbers."""
        return self._arrays()["evaluation"]

    @property
    def values(self) -> np.ndarray:
        """(n, P) parameter values, columns as ``names``."""
        return self._arrays()["values"]

    @property
    def ok(self) -> np.ndarray:
        """False where the candidate diverged (flagged) or its loss is not finite."""
        return self._arrays()["ok"]

    def quantity(self, name: str) -> np.ndarray:
        """The loss, or one term's values (NaN for candidates whose event did not carry it)."""
        a = self._arrays()
        return a[LOSS] if name == LOSS else a.get("term:" + name, np.full(len(a[LOSS]), np.nan))
