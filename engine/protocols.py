"""What the search needs of an objective and of a checkpointer: structural protocols, so that the local objective,
a cluster's objective and a test's stand-in all fit without inheriting from anything.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import numpy as np

from engine.events import ActorRow
from engine.model.target import FitTarget


class ObjectiveResult(Protocol):
    """The scores of one batch, as every objective returns them (trimmed to the candidates asked)."""

    @property
    def losses(self) -> np.ndarray: ...  # (B,) finite
    @property
    def flags(self) -> tuple[str, ...]: ...  # "" | "nan" (diverged) | "flat" (no FC variance), one per candidate
    @property
    def best_index(self) -> int: ...  # the lowest loss of the batch
    @property
    def best_fc(self) -> np.ndarray: ...  # (N, N) that candidate's model FC
    @property
    def wall_s(self) -> float: ...
    @property
    def compile_s(self) -> float: ...
    @property
    def terms(self) -> dict[str, np.ndarray]: ...  # each objective term (B,)
    @property
    def corr(self) -> np.ndarray | None: ...  # (B,) FC correlation with the target, when computed
    @property
    def best_signal(self) -> np.ndarray | None: ...  # (S, N) the best candidate's sampled signal, when kept


class Objective(Protocol):
    """What the loop needs from an objective (local, sharded over devices, or on a cluster's actors): a batch of
    candidates scored in one call."""

    @property
    def description(self) -> str: ...  # where and how batches run, for the run log

    @property
    def compiled(self) -> bool: ...  # whether the next call runs without compiling

    def __call__(self, values: np.ndarray, first_lane: int = 0) -> ObjectiveResult: ...


@runtime_checkable
class Segmented(Protocol):
    """An objective that simulates a batch in segments (the local one): it reports the simulated ms after each
    segment to ``progress`` and stops between two when ``cancelled()`` turns true (raising ``BatchCancelled``)."""

    @property
    def segment_ms(self) -> float: ...

    def __call__(self, values: np.ndarray, first_lane: int = 0, *, progress: Callable[[float], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> ObjectiveResult: ...


@runtime_checkable
class Targeted(Protocol):
    """An objective that says what it scores against (its FC, FCD values, TR and the structure-alone baseline)."""

    @property
    def target(self) -> FitTarget: ...


@runtime_checkable
class Closable(Protocol):
    """An objective that holds something to free after the fit (a cluster's actors)."""

    def close(self) -> None: ...


@runtime_checkable
class OnActors(Protocol):
    """An objective scored by actors: their rows after each batch."""

    def actor_rows(self) -> list[ActorRow]: ...


@runtime_checkable
class Warns(Protocol):
    """An objective with something to say mid-fit (e.g. that a cluster actor died): it calls ``on_warning``."""

    on_warning: Callable[[str], None] | None


class Checkpointer(Protocol):
    """Persists the optimizer after every told batch (see ``engine.runs``)."""

    def save(self, *, proposer: bytes, evaluations: int, batches: int) -> None: ...
