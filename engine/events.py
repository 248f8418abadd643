"""Typed events that a fit emits, for a UI, a run-directory writer or a progress bar to consume."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Union

import numpy as np

from engine.config import FitConfig

Status = Literal["running", "finished", "stopped", "failed", "crashed"]


def _now() -> float:
    return time.time()


@dataclass(frozen=True, kw_only=True)
class Started:
    """The fit began: its configuration, the target FC and where it runs."""

    config: FitConfig
    target_fc: np.ndarray  # (N, N)
    dataset: str
    device: str
    evaluations_done: int = 0  # > 0 when resuming
    structural_baseline: float | None = None  # Pearson r of Cmat and the target FC: what the structure alone gives
    map_baselines: Mapping[str, float | None] | None = None  # r of each map the fit uses, alone (engine.data.nulls)
    time: float = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class Compiling:
    """The objective is being compiled for a batch shape (the first call; can take seconds)."""

    batch: int
    time: float = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class BatchEvaluated:
    """One device call scored a batch of candidates."""

    batch_index: int  # 0-based batch number within the run
    first_evaluation: int  # 0-based evaluation number of the batch's first candidate
    names: tuple[str, ...]  # fitted parameter names, the columns of ``values``
    values: np.ndarray  # (B, P) candidate parameter values
    losses: np.ndarray  # (B,) finite losses (NaN/inf simulations get the worst loss, see ``flags``)
    flags: tuple[str, ...]  # per candidate: "" or e.g. "nan" when the simulation diverged
    wall_s: float  # wall time of the device call
    compile_s: float  # compilation time included in this call (0 when cached)
    evaluations: int  # evaluations done after this batch
    candidates_per_s: float
    sim_s_per_s: float  # simulated seconds (all candidates) per wall second
    best_loss: float  # best loss so far
    terms: Mapping[str, np.ndarray] = field(default_factory=dict)  # each objective term (B,), NaN where flagged
    corr: np.ndarray | None = None  # (B,) FC correlation r, NaN where flagged
    time: float = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class SegmentSimulated:
    """A segment of the batch in flight was simulated: progress inside a batch of long candidates."""

    batch_index: int
    simulated_ms: float  # simulated time done per candidate
    duration_ms: float  # simulated time per candidate in all
    evaluations_done: int  # evaluations finished before this batch
    batch_size: int  # candidates in the batch
    time: float = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class NewBest:
    """A candidate beat every earlier one."""

    evaluation: int
    params: Mapping[str, float]  # fitted parameters only
    loss: float
    model_fc: np.ndarray  # (N, N)
    terms: Mapping[str, float] = field(default_factory=dict)  # its objective terms
    corr: float | None = None  # its FC correlation r (None: 1 − loss, as runs written before terms)
    model_signal: np.ndarray | None = None  # (S, N) its sampled signal (BOLD every TR), when the observation is sampled
    sample_tr_s: float | None = None  # the interval of those samples
    time: float = field(default_factory=_now)

    @property
    def fc_corr(self) -> float:
        """Correlation of model and target FC."""
        return 1.0 - self.loss if self.corr is None else self.corr


@dataclass(frozen=True, kw_only=True)
class ActorRow:
    """One Ray actor of a cluster fit as the device panel and ``info --cluster`` show it."""

    index: int
    host: str
    ip: str
    pid: int | None
    device: str  # e.g. "1× NVIDIA H200" or "2× cpu"
    platform: str
    memory_in_use: int | None  # bytes (device memory on GPU; the actor's RSS on CPU)
    memory_total: int | None  # bytes (device limit on GPU; host RAM on CPU)
    lanes: int  # candidates per call it was compiled for (0 before compiling)
    share: int  # candidates it scored in the last batch
    candidates_per_s: float | None  # its own throughput over recent batches
    batches: int  # batches it took part in
    state: str  # "starting" | "ready" | "dead"
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> "ActorRow":
        """Rebuild a row written by ``to_dict`` (unknown keys are ignored)."""
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class ActorsUpdated:
    """The actors of a cluster fit after a batch (or as they start): host, device, memory, share, throughput."""

    rows: tuple[ActorRow, ...]
    batch_index: int | None = None  # the batch the shares are of (None: before the first batch)
    simulated_seconds: float = 0.0  # simulated seconds per candidate (throughput × this: simulated s per s)
    time: float = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class Verifying:
    """The fit's budget is spent; its best point is being simulated again with fresh noise (one batched call)."""

    message: str
    seeds: int
    time: float = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class Warned:
    """Something the user should know that does not stop the fit."""

    message: str
    time: float = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class Summary:
    """The outcome of a fit, however it ended."""

    status: Status
    reason: str
    names: tuple[str, ...]
    best_params: Mapping[str, float] | None
    best_loss: float | None
    recommendation: Mapping[str, float] | None
    recommendation_loss: float | None
    evaluations: int
    nan_candidates: int
    wall_s: float
    device: str
    warnings: tuple[str, ...] = ()
    best_terms: Mapping[str, float] | None = None  # the best candidate's objective terms
    best_fc_corr: float | None = None  # the best candidate's FC correlation r (None: 1 − loss, as older runs)
    structural_baseline: float | None = None  # Pearson r of Cmat and the target FC (on the scored edges)
    objective: str = "fc"
    edges: str = "all"  # the FC edges scored (fc_corr, the terms and the baseline are all on them)
    realizations: int = 1  # noise realisations per candidate (scored on their mean FC)
    held_out: Mapping[str, object] | None = None  # train/test scores of the best (engine.model.heldout.HeldOut)
    map_baselines: Mapping[str, float | None] | None = None  # r of each map the fit uses, alone (engine.data.nulls)
    test_map_baselines: Mapping[str, float | None] | None = None  # the same against the held-out target
    fresh: Mapping[str, Any] | None = None  # the fresh-noise verdict (engine.model.fresh.Verdict.to_dict)
    tradeoff: Mapping[str, Any] | None = None  # candidates meeting the FCD and level bars (engine.model.tradeoff)

    @property
    def best_corr(self) -> float | None:
        """FC correlation of the best candidate."""
        if self.best_fc_corr is not None:
            return self.best_fc_corr
        return None if self.best_loss is None or self.objective != "fc" else 1.0 - self.best_loss

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "status": self.status,
            "reason": self.reason,
            "best_params": dict(self.best_params) if self.best_params else None,
            "best_loss": self.best_loss,
            "fc_corr": self.best_corr,
            "terms": dict(self.best_terms) if self.best_terms else None,
            "objective": self.objective,
            "structural_baseline": self.structural_baseline,
            "recommendation": dict(self.recommendation) if self.recommendation else None,
            "recommendation_loss": self.recommendation_loss,
            "evaluations": self.evaluations,
            "nan_candidates": self.nan_candidates,
            "wall_s": round(self.wall_s, 3),
            "device": self.device,
            "warnings": list(self.warnings),
            "edges": self.edges,
            "realizations": self.realizations,
            "held_out": dict(self.held_out) if self.held_out else None,
            "map_baselines": dict(self.map_baselines) if self.map_baselines is not None else None,
            "test_map_baselines": dict(self.test_map_baselines) if self.test_map_baselines is not None else None,
            "fresh": dict(self.fresh) if self.fresh else None,
            "tradeoff": dict(self.tradeoff) if self.tradeoff else None,
        }


@dataclass(frozen=True, kw_only=True)
class Ended:
    """The fit ended; ``summary`` says how. Subclassed by the three ways it can end."""

    summary: Summary
    time: float = field(default_factory=_now)


class Finished(Ended):
    """The budget was spent."""


class Cancelled(Ended):
    """The user stopped the fit; results so far are kept."""


class Failed(Ended):
    """The fit ended on an error; results so far are kept."""


Event = Union[Started, Compiling, BatchEvaluated, SegmentSimulated, NewBest, ActorsUpdated, Verifying, Warned, Finished,
              Cancelled, Failed]
Listener = Callable[[Event], None]
TERMINAL = (Finished, Cancelled, Failed)
