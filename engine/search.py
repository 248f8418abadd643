"""The search loop: ask a batch from the optimizer, score it in one device call, tell, emit events.

The caller owns the loop (Nevergrad's ask/tell), so batches, cancellation, checkpoints and resume are
ours. ``Search.run`` blocks; ``start`` runs it in a daemon thread.
"""

from __future__ import annotations

import math
import pickle
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from engine.config import GRID, ConfigError, FitConfig
from engine.data.dataset import Dataset
from engine.events import (
    ActorRow,
    ActorsUpdated,
    BatchEvaluated,
    Cancelled,
    Compiling,
    Event,
    Failed,
    Finished,
    Listener,
    NewBest,
    SegmentSimulated,
    Started,
    Summary,
    Verifying,
    Warned,
)
from engine.model.target import FitTarget, resolve_tr

if TYPE_CHECKING:
    from engine.prepare import PreparedFit


class FitError(RuntimeError):
    """A failure of the fit with a message meant for the user as it is."""


#: A best value this close to a bound (as a fraction of the range) triggers a warning.
BOUND_MARGIN = 0.02


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


@dataclass(kw_only=True)
class Resume:
    """Where a resumed run picks up: the unpickled proposer and what was already evaluated."""

    proposer: Proposer
    evaluations: int
    batches: int
    best_values: np.ndarray | None = None
    best_loss: float | None = None
    best_fc: np.ndarray | None = None
    nan_candidates: int = 0
    wall_s: float = 0.0
    best_terms: dict[str, float] | None = None
    best_corr: float | None = None


@dataclass
class _Progress:
    evaluations: int = 0
    batches: int = 0
    best_values: np.ndarray | None = None
    best_loss: float | None = None
    best_fc: np.ndarray | None = None
    best_terms: dict[str, float] | None = None
    best_corr: float | None = None
    best_signals: np.ndarray | None = None  # (R, S, N) the best candidate's sampled signals (this session's best)
    nan_candidates: int = 0
    warnings: list[str] = field(default_factory=list)
    seen: list[tuple[np.ndarray, float]] = field(default_factory=list)  # this session's (values, loss)


def bound_warnings(names: Sequence[str], values: np.ndarray, bounds: dict[str, tuple[float, float]]) -> list[str]:
    """Warnings for fitted values within 2 % of a bound: the optimum may lie outside the bounds."""
    out = []
    for name, v in zip(names, values):
        lo, hi = bounds[name]
        margin = BOUND_MARGIN * (hi - lo)
        side = "lower" if v - lo <= margin else "upper" if hi - v <= margin else None
        if side:
            out.append(f"best {name} = {v:.4g} lies within 2% of its {side} bound "
                       f"[{lo:g}, {hi:g}]; the optimum may lie beyond it — widen the bounds")
    return out


def stop_helper_threads() -> None:
    """Stop Nevergrad's recast-optimizer threads, which are not daemons and would keep the process alive."""
    try:
        from nevergrad.optimization.recaster import _MessagingThread
    except ImportError:  # pragma: no cover - layout of another nevergrad version
        return
    for t in threading.enumerate():
        if isinstance(t, _MessagingThread) and t.is_alive():
            t.stop()


class Search:
    """One fit: owns the ask/tell loop, calls listeners with events, can be cancelled from any thread."""

    def __init__(self, config: FitConfig, dataset: Dataset, *, listeners: Sequence[Listener] = (),
                 objective: Objective | None = None, checkpointer: Checkpointer | None = None,
                 resume: Resume | None = None, objective_factory: Callable[[], Objective] | None = None,
                 test_dataset: Dataset | None = None, prepared: PreparedFit | None = None) -> None:
        self.config = config
        self.dataset = dataset
        self.test_dataset = test_dataset  # --test DATA (loaded from config.test_data when not given)
        self.prepared = prepared  # engine.prepare: targets, held-out data and caveats (prepared in the loop if None)
        self._test_target: FitTarget | None = None  # the held-out check's target, built once
        self.held_out: Any = None  # engine.model.heldout.HeldOut after a finished fit with a held-out check
        self.judgement: Any = None  # engine.verdict.Judgement after a finished fit: nulls and the fresh-noise verdict
        self._built_targets: tuple[Any, Any] | None = None  # (train, test) targets, built once for the verdicts
        self._map_nulls: Any = None  # (map baselines, test map baselines), computed when the fit starts
        self.listeners = list(listeners)
        self.objective = objective
        self._objective_factory = objective_factory
        self.checkpointer = checkpointer
        self.resume = resume
        self._cancel = threading.Event()
        self.summary: Summary | None = None

    def cancel(self) -> None:
        """Ask the loop to stop; it stops before the next device call (within one batch)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether a stop was requested."""
        return self._cancel.is_set()

    def _emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)

    def _device(self) -> str:
        return "not started" if self.objective is None else self.objective.description

    def _summary(self, status: str, reason: str, prog: _Progress, t0: float, proposer: Proposer | None,
                 rec: tuple[np.ndarray | None, float | None] = (None, None)) -> Summary:
        names = self.config.names
        as_dict = lambda v: None if v is None else {n: float(x) for n, x in zip(names, v)}
        base = self.resume.wall_s if self.resume else 0.0
        return Summary(status=status, reason=reason, names=names,  # type: ignore[arg-type]
                       best_params=as_dict(prog.best_values), best_loss=prog.best_loss,
                       recommendation=as_dict(rec[0]), recommendation_loss=rec[1],
                       evaluations=prog.evaluations, nan_candidates=prog.nan_candidates,
                       wall_s=base + time.perf_counter() - t0, device=self._device(), warnings=tuple(prog.warnings),
                       best_terms=prog.best_terms, best_fc_corr=prog.best_corr,
                       structural_baseline=self._baseline(), objective=self.config.objective,
                       edges=self.config.edges, realizations=self.config.realizations,
                       held_out=None if self.held_out is None else self.held_out.to_dict(),
                       map_baselines=None if self.judgement is None else self.judgement.map_baselines,
                       test_map_baselines=None if self.judgement is None else self.judgement.test_map_baselines,
                       fresh=None if self.judgement is None else self.judgement.fresh_dict)

    def _actors(self, obj: Any, batch_index: int | None) -> None:
        """Emit ActorsUpdated when the objective runs on actors (a cluster's ``actor_rows``)."""
        if isinstance(obj, OnActors):
            self._emit(ActorsUpdated(rows=tuple(obj.actor_rows()), batch_index=batch_index,
                                     simulated_seconds=float(self.config.simulated_seconds)))

    def _tr_s(self, target: FitTarget | None) -> float | None:
        """The sampling interval the fit observes at (the objective's target, else the settings and data)."""
        if target is not None:
            return target.tr_s
        try:
            return resolve_tr(self.config, self.dataset)
        except ConfigError:
            return None

    def _objective(self, cfg: FitConfig) -> Objective:
        """The objective: given, started by the factory (a cluster's), or the prepared local one.

        A fit not given prepared (the app, the API, studies, resumes) is prepared here (``engine.prepare``), unless
        it was given its objective: its errors then fail the fit.
        """
        if self.objective is None and self.prepared is None:
            from engine.prepare import prepare_fit  # lazy: JAX (Ray actors read this module first)

            self.prepared = prepare_fit(cfg, dataset=self.dataset, test_dataset=self.test_dataset,
                                        fcd_window_given=True, local=self._objective_factory is None)
        if self.objective is None:
            if self._objective_factory is not None:
                self.objective = self._objective_factory()
            elif self.prepared is not None and self.prepared.objective is not None:
                self.objective = self.prepared.objective
            else:
                from engine.model.objective import Objective as Local  # lazy: JAX

                self.objective = Local(self.dataset, cfg)
            obj = self.objective
            if isinstance(obj, Warns) and obj.on_warning is None:  # e.g. a device out of memory, retried in smaller chunks
                obj.on_warning = lambda message: self._emit(Warned(message=message))
        return self.objective

    def _held_out_data(self, cfg: FitConfig) -> None:
        """The ``--test`` dataset and the held-out target: the prepared ones, else loaded and built here, once."""
        if self.prepared is not None:
            self.test_dataset, self._test_target = self.prepared.test_dataset, self.prepared.test_target
        elif cfg.split or cfg.test_data:
            from engine.model import heldout  # lazy: held-out scoring loads JAX's FCD (Ray actors read this module first)

            if self.test_dataset is None:
                self.test_dataset = heldout.load_test_dataset(cfg, self.dataset)
            self._test_target = heldout.test_target(cfg, self.dataset, self.test_dataset)

    def _held_out_check(self, cfg: FitConfig, prog: _Progress, target: Any) -> str | None:
        """Score the best candidate on the held-out data (``self.held_out``); its warning, if any."""
        from engine.model import heldout  # lazy: held-out scoring loads JAX's FCD (Ray actors read this module first)

        try:
            test = self.test_dataset if self.test_dataset is not None else heldout.load_test_dataset(cfg, self.dataset)
            if target is None and self.prepared is not None:
                target = self.prepared.target
            if target is None:
                from engine.model.target import build_target  # lazy: as above

                target = build_target(cfg, self.dataset)
            signals = prog.best_signals
            self.held_out = heldout.score_held_out(
                cfg, self.dataset, best_fc=np.asarray(prog.best_fc), train_r=prog.best_corr,
                train_ks=(prog.best_terms or {}).get("fcd_ks"), train_target=target, best_signals=signals, test=test,
                held_target=self._test_target)
        except Exception as e:  # noqa: BLE001 - a failed check is reported, the fit's results stand
            return f"held-out check failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        verdict = None if self.judgement is None else self.judgement.fresh
        if verdict is not None and verdict.best.test is not None:  # the held-out score from the fresh runs
            from engine.verdict import fresh_held_out

            self.held_out = fresh_held_out(self.held_out, verdict)
            return heldout.gap_caveat(self.held_out)
        note = None
        if self.held_out.test_ks is None and cfg.objective_spec.needs_fcd:
            note = ("held-out check: no test KS — the best candidate's BOLD is not kept across a resume "
                    "(its test r is from the stored FC)")
        return heldout.gap_caveat(self.held_out) or note

    def _targets(self, cfg: FitConfig, target: Any) -> tuple[Any, Any]:
        """The fitted target and the held-out one (None without a held-out check)."""
        from engine.model import heldout  # lazy: JAX (Ray actors import this module before their devices are set)
        from engine.model.target import build_target

        if self._built_targets is None:
            if target is None and self.prepared is not None:
                target = self.prepared.target
            train = target if target is not None else build_target(cfg, self.dataset)
            test = self._test_target
            if test is None and (cfg.split or cfg.test_data):
                test = heldout.test_target(cfg, self.dataset, self.test_dataset)
            self._built_targets = (train, test)
        return self._built_targets

    def _nulls(self, cfg: FitConfig, target: Any) -> tuple[dict[str, float | None], dict[str, float | None] | None] | None:
        """Each map's r alone against the fitted and held-out targets (None when they cannot be computed)."""
        from engine import verdict  # lazy: as above

        try:
            self._map_nulls = verdict.map_baselines(cfg, self.dataset, *self._targets(cfg, target))
        except Exception:  # noqa: BLE001 - the end of the fit says why (``judge`` computes them again)
            self._map_nulls = None
        return self._map_nulls

    def _judge(self, cfg: FitConfig, prog: _Progress, target: Any, rec: np.ndarray | None,
               best_corr: float | None) -> list[str]:
        """Nulls beside the score and the fresh-noise verdict (``self.judgement``); their warnings."""
        from engine import verdict  # lazy: JAX (Ray actors import this module before their devices are set)

        try:
            train, test = self._targets(cfg, target)
        except Exception as e:  # noqa: BLE001 - the verdicts are said to have failed; the fit's results stand
            return [f"nulls and fresh-noise verdict skipped: {type(e).__name__}: {e}"]
        names = cfg.names
        best = {n: float(v) for n, v in zip(names, prog.best_values)}  # type: ignore[arg-type]
        recommendation = None if rec is None else {n: float(v) for n, v in zip(names, rec)}
        fresh = cfg.fresh_seeds > 0 and not self.cancelled
        if fresh:
            self._emit(Verifying(message=f"fresh-noise verdict: the best point{' and the recommendation' if rec is not None else ''} "
                                         f"simulated again with {cfg.fresh_seeds} new noise seeds",
                                 seeds=cfg.fresh_seeds))
        self.judgement = verdict.judge(cfg, self.dataset, train=train, test=test, best=best, best_corr=best_corr,
                                       recommendation=recommendation, test_dataset=self.test_dataset, fresh=fresh,
                                       precomputed=self._map_nulls)
        return list(self.judgement.warnings)

    def _baseline(self) -> float | None:
        return float(self.objective.target.structural_baseline) if isinstance(self.objective, Targeted) else None

    def run(self) -> Summary:
        """Run to the end of the budget, a cancel or an error; never raises for the fit's own errors."""
        t0 = time.perf_counter()
        cfg = self.config
        prog = _Progress()
        proposer: Proposer | None = None
        if self.resume:
            r = self.resume
            proposer = r.proposer
            prog = _Progress(evaluations=r.evaluations, batches=r.batches, best_values=r.best_values,
                             best_loss=r.best_loss, best_fc=r.best_fc, nan_candidates=r.nan_candidates,
                             best_terms=r.best_terms, best_corr=r.best_corr)
        try:
            return self._loop(cfg, prog, proposer, t0)
        except Exception as e:  # noqa: BLE001 - any failure ends the run cleanly, results kept
            text = str(e) if isinstance(e, FitError) else f"{type(e).__name__}: {e}"
            reason = (text.strip().splitlines() or ["unknown error"])[0]
            self.summary = self._summary("failed", reason, prog, t0, proposer)
            self._emit(Failed(summary=self.summary))
            return self.summary
        finally:
            stop_helper_threads()

    def _loop(self, cfg: FitConfig, prog: _Progress, proposer: Proposer | None, t0: float) -> Summary:
        # lazy: JAX; this module is imported inside Ray actors before their CPU devices are set
        from engine.caveats import baseline_caveat, config_caveats, fcd_caveat
        from engine.model import objective as local
        from engine.model.regional import batch_warnings

        obj = self._objective(cfg)
        target = obj.target if isinstance(obj, Targeted) else None
        self._held_out_data(cfg)  # bad held-out data fails now, not at the end
        nulls = self._nulls(cfg, target)
        self._emit(Started(config=cfg, target_fc=self.dataset.target_fc if target is None else target.fc,
                           dataset=self.dataset.name, device=obj.description, evaluations_done=prog.evaluations,
                           structural_baseline=self._baseline(), map_baselines=nulls[0] if nulls else None))
        self._actors(obj, None)
        caveats = self.prepared.caveats if self.prepared is not None else (
            *config_caveats(cfg), fcd_caveat(cfg, self._tr_s(target)))
        for w in filter(None, caveats):
            prog.warnings.append(w)
            self._emit(Warned(message=w))
        if proposer is None:
            try:
                proposer = make_proposer(cfg)
            except Exception as e:  # noqa: BLE001
                raise FitError(f"optimizer {cfg.optimizer} could not start: {type(e).__name__}: {e}") from e
        budget = budget_of(cfg)
        names = cfg.names
        checkpoint_warned = False
        while prog.evaluations < budget:
            if self.cancelled:
                self.summary = self._summary("stopped", "stopped by the user", prog, t0, proposer)
                self._emit(Cancelled(summary=self.summary))
                return self.summary
            n = min(cfg.batch, budget - prog.evaluations)
            try:
                values = proposer.ask(n)
            except Exception as e:  # noqa: BLE001
                raise FitError(f"optimizer {cfg.optimizer} failed in ask: {type(e).__name__}: {e}") from e
            if len(values) == 0:
                break
            if not obj.compiled:
                self._emit(Compiling(batch=cfg.batch))
            def progress(ms: float, batch: int = prog.batches, done: int = prog.evaluations, size: int = len(values)) -> None:
                self._emit(SegmentSimulated(batch_index=batch, simulated_ms=ms, duration_ms=cfg.duration_ms,
                                            evaluations_done=done, batch_size=size))

            try:
                res: ObjectiveResult = (
                    obj(values, first_lane=prog.evaluations, progress=progress, cancelled=lambda: self.cancelled)
                    if isinstance(obj, Segmented) else obj(values, first_lane=prog.evaluations))
            except local.BatchCancelled as e:
                self.summary = self._summary("stopped", f"stopped by the user ({e})", prog, t0, proposer)
                self._emit(Cancelled(summary=self.summary))
                return self.summary
            first = prog.evaluations
            prog.evaluations += len(values)
            prog.batches += 1
            prog.seen.extend(zip(np.array(values), (float(x) for x in res.losses)))
            bad = sum(1 for f in res.flags if f)
            prog.nan_candidates += bad
            improved = prog.best_loss is None or res.losses[res.best_index] < prog.best_loss
            terms = dict(res.terms)
            corr = res.corr
            best_terms = {k: float(v[res.best_index]) for k, v in terms.items()}
            best_corr = None if corr is None else float(corr[res.best_index])
            if improved:
                prog.best_loss = float(res.losses[res.best_index])
                prog.best_values = np.array(values[res.best_index])
                prog.best_fc = res.best_fc
                prog.best_terms = best_terms or None
                prog.best_corr = best_corr
                prog.best_signals = getattr(res, "best_signals", None)
            wall = max(res.wall_s, 1e-9)
            self._emit(BatchEvaluated(
                batch_index=prog.batches - 1, first_evaluation=first, names=names, values=np.array(values),
                losses=res.losses, flags=res.flags, wall_s=res.wall_s, compile_s=res.compile_s,
                evaluations=prog.evaluations, candidates_per_s=len(values) / wall,
                sim_s_per_s=len(values) * cfg.simulated_seconds / wall, best_loss=float(prog.best_loss),  # type: ignore[arg-type]
                terms=terms, corr=corr))
            self._actors(obj, prog.batches - 1)
            if improved:
                self._emit(NewBest(evaluation=first + res.best_index,
                                   params={k: float(v) for k, v in zip(names, values[res.best_index])},
                                   loss=float(prog.best_loss), model_fc=res.best_fc,  # type: ignore[arg-type]
                                   terms=best_terms, corr=best_corr,
                                   model_signal=res.best_signal,
                                   sample_tr_s=None if target is None else target.tr_s))
            diverged = sum(1 for f in res.flags if f and f != "range")
            if diverged:
                self._emit(Warned(message=f"{diverged} candidate(s) in batch {prog.batches} diverged "
                                          f"({', '.join(sorted(set(f for f in res.flags if f and f != 'range')))}); "
                                          f"they got the worst loss and the fit goes on"))

            for message in batch_warnings(res, prog.batches):
                self._emit(Warned(message=message))
            try:
                proposer.tell(values, res.losses)
            except Exception as e:  # noqa: BLE001
                raise FitError(f"optimizer {cfg.optimizer} failed in tell: {type(e).__name__}: {e}") from e
            if self.checkpointer is not None:
                try:
                    blob = pickle.dumps(proposer)
                except Exception as e:  # noqa: BLE001 - e.g. optimizers running a helper thread
                    if not checkpoint_warned:
                        checkpoint_warned = True
                        self._emit(Warned(message=f"optimizer {cfg.optimizer} cannot be checkpointed "
                                                  f"({type(e).__name__}); a resume restarts it"))
                    blob = b""
                self.checkpointer.save(proposer=blob, evaluations=prog.evaluations, batches=prog.batches)
        rec_values: np.ndarray | None = None
        rec_loss: float | None = None
        try:
            rec_values = proposer.recommend()
        except Exception as e:  # noqa: BLE001
            self._emit(Warned(message=f"optimizer gave no recommendation: {type(e).__name__}: {e}"))
        if rec_values is not None:
            seen = [loss for values, loss in prog.seen if np.array_equal(values, rec_values)]
            if seen:
                rec_loss = seen[0]
            elif not self.cancelled:  # a point the optimizer inferred but never asked: score it once
                rec_loss = float(obj(rec_values[None, :], first_lane=0).losses[0])
        if prog.best_values is not None:
            late = bound_warnings(names, prog.best_values, dict(cfg.bounds))
            corr_of_best = prog.best_corr if prog.best_corr is not None else (
                1.0 - prog.best_loss if cfg.objective == "fc" and prog.best_loss is not None else None)
            late.append(baseline_caveat(corr_of_best, self._baseline()))  # type: ignore[arg-type]
            late += self._judge(cfg, prog, target, rec_values, corr_of_best)
            if cfg.split or cfg.test_data:
                late.append(self._held_out_check(cfg, prog, target))  # type: ignore[arg-type]
            for w in filter(None, late):
                prog.warnings.append(w)
                self._emit(Warned(message=w))
        self.summary = self._summary("finished", "budget spent", prog, t0, proposer, (rec_values, rec_loss))
        self._emit(Finished(summary=self.summary))
        return self.summary


def start(search: Search) -> threading.Thread:
    """Run a search in a daemon thread and return the thread."""
    thread = threading.Thread(target=search.run, name="wcfit-search", daemon=True)
    thread.start()
    return thread
