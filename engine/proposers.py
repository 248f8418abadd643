"""The optimizers a search asks for candidates: Nevergrad's (ask/tell) and a grid, behind one ``Proposer`` protocol.

The caller owns the loop (Nevergrad's ask/tell); a proposer only proposes batches and is told their losses. Its
pickle is the run directory's checkpoint (``engine.runs.checkpoint`` resolves these classes by name).
"""

from __future__ import annotations

import math
import threading
from typing import Any, Protocol

import numpy as np

from engine.config import GRID, FitConfig


class Proposer(Protocol):
    """What the loop needs from an optimizer: batches of candidates in, losses back."""

    def ask(self, n: int) -> np.ndarray: ...

    def tell(self, values: np.ndarray, losses: np.ndarray) -> None: ...

    def recommend(self) -> np.ndarray | None: ...


class NevergradProposer:
    """Any optimizer of Nevergrad's registry over a box, driven by ask/tell."""

    def __init__(self, name: str, bounds: np.ndarray, *, budget: int, batch: int, seed: int,
                 start: np.ndarray | None = None) -> None:
        import nevergrad as ng

        param = ng.p.Array(shape=(bounds.shape[0],), lower=bounds[:, 0], upper=bounds[:, 1])
        param.random_state = np.random.RandomState(seed)
        if start is not None:  # CMA and the one-plus-one family search around the parametrization's value
            param.value = np.asarray(start, np.float64)
        self.optimizer = ng.optimizers.registry[name](parametrization=param, budget=budget, num_workers=batch)
        if start is not None:  # the first candidate asked is this point ("fit from here")
            self.optimizer.suggest(np.asarray(start, np.float64))
        self._pending: list[Any] = []

    def ask(self, n: int) -> np.ndarray:
        """Ask ``n`` candidates; returns their values (n, P)."""
        self._pending = [self.optimizer.ask() for _ in range(n)]
        return np.array([np.asarray(c.value, np.float64) for c in self._pending])

    def tell(self, values: np.ndarray, losses: np.ndarray) -> None:
        """Tell the losses of the last asked batch."""
        for cand, loss in zip(self._pending, losses):
            self.optimizer.tell(cand, float(loss))
        self._pending = []

    def recommend(self) -> np.ndarray | None:
        """Nevergrad's recommendation (its estimate of the optimum, not always an evaluated point)."""
        return np.asarray(self.optimizer.provide_recommendation().value, np.float64)


def grid_per_axis(n_params: int, budget: int) -> int:
    """Grid points per axis for a budget: about budget^(1/P), at least 2."""
    return max(2, math.ceil(budget ** (1.0 / n_params) - 1e-9))


class GridProposer:
    """A regular grid over one or two parameters, visited row by row: a map of the loss landscape."""

    def __init__(self, bounds: np.ndarray, *, budget: int) -> None:
        p = bounds.shape[0]
        per_axis = grid_per_axis(p, budget)
        axes = [np.linspace(lo, hi, per_axis) for lo, hi in bounds]
        mesh = np.meshgrid(*axes, indexing="ij")
        self.points = np.stack([m.ravel() for m in mesh], axis=1)[:budget]
        self.position = 0
        self._best: tuple[float, np.ndarray] | None = None

    def ask(self, n: int) -> np.ndarray:
        """The next ``n`` grid points."""
        out = self.points[self.position:self.position + n]
        self.position += len(out)
        return out

    def tell(self, values: np.ndarray, losses: np.ndarray) -> None:
        """Remember the best grid point."""
        i = int(np.argmin(losses))
        if self._best is None or losses[i] < self._best[0]:
            self._best = (float(losses[i]), np.array(values[i]))

    def recommend(self) -> np.ndarray | None:
        """The best grid point seen."""
        return None if self._best is None else self._best[1]


def make_proposer(config: FitConfig) -> Proposer:
    """The proposer a configuration asks for."""
    bounds = np.array([config.bounds[n] for n in config.names], np.float64)
    if config.optimizer == GRID:
        return GridProposer(bounds, budget=config.budget)
    start = None if not config.start else np.array([config.start[n] for n in config.names], np.float64)
    return NevergradProposer(config.optimizer, bounds, budget=config.budget, batch=config.batch, seed=config.seed,
                             start=start)


def budget_of(config: FitConfig) -> int:
    """Evaluations a run will make (a grid may hold fewer points than the budget)."""
    if config.optimizer == GRID:
        return min(config.budget, grid_per_axis(len(config.bounds), config.budget) ** len(config.bounds))
    return config.budget


def stop_helper_threads() -> None:
    """Stop Nevergrad's recast-optimizer threads, which are not daemons and would keep the process alive."""
    try:
        from nevergrad.optimization.recaster import _MessagingThread
    except ImportError:  # pragma: no cover - layout of another nevergrad version
        return
    for t in threading.enumerate():
        if isinstance(t, _MessagingThread) and t.is_alive():
            t.stop()
