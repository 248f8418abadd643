"""The search loop: ask a batch from the optimizer, score it in one device call, tell, emit events.

The caller owns the loop (Nevergrad's ask/tell), so batches, cancellation, checkpoints and resume are
ours. ``Search.run`` blocks (a front end runs it in its own thread).
"""

from __future__ import annotations

import pickle
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from engine.config import ConfigError, FitConfig
from engine.data.dataset import Dataset
from engine.events import (
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
    Warned,
)
from engine.fit_checks import BestSoFar, FitChecks, bound_warnings
from engine.model.target import FitTarget, resolve_tr
from engine.model.tradeoff import Scored, scored, tradeoff
from engine.proposers import Proposer, budget_of, make_proposer, stop_helper_threads
from engine.protocols import (
    Checkpointer,
    Objective,
    ObjectiveResult,
    OnActors,
    Segmented,
    Targeted,
    Warns,
)

if TYPE_CHECKING:
    from engine.prepare import PreparedFit

__all__ = ["FitError", "Resume", "Search", "bound_warnings", "stop_helper_threads"]


class FitError(RuntimeError):
    """A failure of the fit with a message meant for the user as it is."""


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
    scored: list[Scored | None] = field(default_factory=list)  # the evaluated candidates' r, KS and level (tradeoff)


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
    scored: list[Scored | None] = field(default_factory=list)  # every candidate's r, KS and level, resumed ones too


def _tradeoff_dict(points: Sequence[Scored | None]) -> dict[str, Any] | None:
    """The joint bars' counts over the candidates (engine.model.tradeoff); None for a fit without an FCD term."""
    t = tradeoff(points)
    return None if t is None else t.to_dict()


class Search:
    """One fit: owns the ask/tell loop, calls listeners with events, can be cancelled from any thread.

    Its collaborators: ``engine.prepare`` (data, targets, caveats), ``engine.fit_checks.FitChecks`` (held-out data,
    nulls, the fresh-noise verdict and the held-out check), the ``Checkpointer`` (the run directory's) and the
    optimizer (``Proposer``); the loop itself only asks, evaluates, records and tells.
    """

    def __init__(self, config: FitConfig, dataset: Dataset, *, listeners: Sequence[Listener] = (),
                 objective: Objective | None = None, checkpointer: Checkpointer | None = None,
                 resume: Resume | None = None, objective_factory: Callable[[], Objective] | None = None,
                 test_dataset: Dataset | None = None, prepared: PreparedFit | None = None) -> None:
        self.config = config
        self.dataset = dataset
        self.prepared = prepared  # engine.prepare: targets, held-out data and caveats (prepared in the loop if None)
        self.listeners = list(listeners)
        self.checks = FitChecks(config, dataset, test_dataset=test_dataset, emit=self._emit)
        self.objective = objective
        self._objective_factory = objective_factory
        self.checkpointer = checkpointer
        self.resume = resume
        self._cancel = threading.Event()
        self._checkpoint_warned = False
        self.summary: Summary | None = None

    @property
    def held_out(self) -> Any:
        """engine.model.heldout.HeldOut after a finished fit with a held-out check, else None."""
        return self.checks.held_out

    @property
    def judgement(self) -> Any:
        """engine.verdict.Judgement after a finished fit (nulls and the fresh-noise verdict), else None."""
        return self.checks.judgement

    @property
    def test_dataset(self) -> Dataset | None:
        """The held-out dataset (``--test``), once loaded."""
        return self.checks.test_dataset

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
                       tradeoff=_tradeoff_dict(prog.scored), **self.checks.summary_fields())

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

            self.prepared = prepare_fit(cfg, dataset=self.dataset, test_dataset=self.checks.test_dataset,
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
                             best_terms=r.best_terms, best_corr=r.best_corr, scored=list(r.scored))
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

    def _start(self, cfg: FitConfig, prog: _Progress) -> tuple[Objective, Any]:
        """The objective and its target; the held-out data checked; Started, the nulls and the caveats emitted."""
        from engine.caveats import config_caveats, fcd_caveat  # lazy: JAX (Ray actors read this module first)

        obj = self._objective(cfg)
        target = obj.target if isinstance(obj, Targeted) else None
        self.checks.load_held_out(self.prepared)  # bad held-out data fails now, not at the end
        nulls = self.checks.nulls(target)
        self._emit(Started(config=cfg, target_fc=self.dataset.target_fc if target is None else target.fc,
                           dataset=self.dataset.name, device=obj.description, evaluations_done=prog.evaluations,
                           structural_baseline=self._baseline(), map_baselines=nulls[0] if nulls else None))
        self._actors(obj, None)
        caveats = self.prepared.caveats if self.prepared is not None else (
            *config_caveats(cfg), fcd_caveat(cfg, self._tr_s(target)))
        for w in filter(None, caveats):
            prog.warnings.append(w)
            self._emit(Warned(message=w))
        return obj, target

    def _loop(self, cfg: FitConfig, prog: _Progress, proposer: Proposer | None, t0: float) -> Summary:
        from engine.model import objective as local  # lazy: JAX

        obj, target = self._start(cfg, prog)
        if proposer is None:
            try:
                proposer = make_proposer(cfg)
            except Exception as e:  # noqa: BLE001
                raise FitError(f"optimizer {cfg.optimizer} could not start: {type(e).__name__}: {e}") from e
        budget = budget_of(cfg)
        while prog.evaluations < budget:
            if self.cancelled:
                return self._stopped("stopped by the user", prog, t0, proposer)
            try:
                values = proposer.ask(min(cfg.batch, budget - prog.evaluations))
            except Exception as e:  # noqa: BLE001
                raise FitError(f"optimizer {cfg.optimizer} failed in ask: {type(e).__name__}: {e}") from e
            if len(values) == 0:
                break
            try:
                res = self._evaluate(obj, values, prog)
            except local.BatchCancelled as e:
                return self._stopped(f"stopped by the user ({e})", prog, t0, proposer)
            self._record(values, res, prog, target)
            try:
                proposer.tell(values, res.losses)
            except Exception as e:  # noqa: BLE001
                raise FitError(f"optimizer {cfg.optimizer} failed in tell: {type(e).__name__}: {e}") from e
            self._checkpoint(proposer, prog)
        return self._finish(obj, target, prog, proposer, t0)

    def _stopped(self, reason: str, prog: _Progress, t0: float, proposer: Proposer | None) -> Summary:
        self.summary = self._summary("stopped", reason, prog, t0, proposer)
        self._emit(Cancelled(summary=self.summary))
        return self.summary

    def _evaluate(self, obj: Objective, values: np.ndarray, prog: _Progress) -> ObjectiveResult:
        """One batch on the objective, its progress emitted segment by segment where the objective is segmented."""
        cfg = self.config
        if not obj.compiled:
            self._emit(Compiling(batch=cfg.batch))

        def progress(ms: float, batch: int = prog.batches, done: int = prog.evaluations, size: int = len(values)) -> None:
            self._emit(SegmentSimulated(batch_index=batch, simulated_ms=ms, duration_ms=cfg.duration_ms,
                                        evaluations_done=done, batch_size=size))

        if isinstance(obj, Segmented):
            return obj(values, first_lane=prog.evaluations, progress=progress, cancelled=lambda: self.cancelled)
        return obj(values, first_lane=prog.evaluations)

    def _record(self, values: np.ndarray, res: ObjectiveResult, prog: _Progress, target: Any) -> None:
        """Fold a scored batch into the progress; emit it, a new best and the batch's warnings."""
        from engine.model.regional import batch_warnings  # lazy: JAX

        names = self.config.names
        first = prog.evaluations
        prog.evaluations += len(values)
        prog.batches += 1
        prog.seen.extend(zip(np.array(values), (float(x) for x in res.losses)))
        prog.nan_candidates += sum(1 for f in res.flags if f)
        prog.scored += [scored(first + i, None if res.corr is None or res.flags[i] else float(res.corr[i]),
                               {k: float(v[i]) for k, v in res.terms.items()}) for i in range(len(values))]
        improved = prog.best_loss is None or res.losses[res.best_index] < prog.best_loss
        terms = dict(res.terms)
        best_terms = {k: float(v[res.best_index]) for k, v in terms.items()}
        best_corr = None if res.corr is None else float(res.corr[res.best_index])
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
            sim_s_per_s=len(values) * self.config.simulated_seconds / wall, best_loss=float(prog.best_loss),  # type: ignore[arg-type]
            terms=terms, corr=res.corr))
        self._actors(self.objective, prog.batches - 1)
        if improved:
            self._emit(NewBest(evaluation=first + res.best_index,
                               params={k: float(v) for k, v in zip(names, values[res.best_index])},
                               loss=float(prog.best_loss), model_fc=res.best_fc,  # type: ignore[arg-type]
                               terms=best_terms, corr=best_corr, model_signal=res.best_signal,
                               sample_tr_s=None if target is None else target.tr_s))
        diverged = sorted(set(f for f in res.flags if f and f != "range"))
        if diverged:
            count = sum(1 for f in res.flags if f and f != "range")
            self._emit(Warned(message=f"{count} candidate(s) in batch {prog.batches} diverged "
                                      f"({', '.join(diverged)}); they got the worst loss and the fit goes on"))
        for message in batch_warnings(res, prog.batches):
            self._emit(Warned(message=message))

    def _checkpoint(self, proposer: Proposer, prog: _Progress) -> None:
        """Save the optimizer and the counts (once warned when the optimizer cannot be pickled: a resume restarts it)."""
        if self.checkpointer is None:
            return
        try:
            blob = pickle.dumps(proposer)
        except Exception as e:  # noqa: BLE001 - e.g. optimizers running a helper thread
            if not self._checkpoint_warned:
                self._checkpoint_warned = True
                self._emit(Warned(message=f"optimizer {self.config.optimizer} cannot be checkpointed "
                                          f"({type(e).__name__}); a resume restarts it"))
            blob = b""
        self.checkpointer.save(proposer=blob, evaluations=prog.evaluations, batches=prog.batches)

    def _recommendation(self, obj: Objective, proposer: Proposer, prog: _Progress
                        ) -> tuple[np.ndarray | None, float | None]:
        """The optimizer's recommendation and its loss (scored once if it was never asked)."""
        try:
            rec = proposer.recommend()
        except Exception as e:  # noqa: BLE001
            self._emit(Warned(message=f"optimizer gave no recommendation: {type(e).__name__}: {e}"))
            return None, None
        if rec is None:
            return None, None
        seen = [loss for values, loss in prog.seen if np.array_equal(values, rec)]
        if seen:
            return rec, seen[0]
        if self.cancelled:
            return rec, None
        return rec, float(obj(rec[None, :], first_lane=0).losses[0])  # inferred, never asked: scored once

    def _finish(self, obj: Objective, target: Any, prog: _Progress, proposer: Proposer, t0: float) -> Summary:
        """The recommendation, the late warnings (bounds, structure, nulls, verdicts, held-out), Finished."""
        from engine.caveats import baseline_caveat  # lazy: as above

        cfg = self.config
        rec_values, rec_loss = self._recommendation(obj, proposer, prog)
        if prog.best_values is not None:
            late = bound_warnings(cfg.names, prog.best_values, dict(cfg.bounds))
            corr_of_best = prog.best_corr if prog.best_corr is not None else (
                1.0 - prog.best_loss if cfg.objective == "fc" and prog.best_loss is not None else None)
            late.append(baseline_caveat(corr_of_best, self._baseline()))  # type: ignore[arg-type]
            best = BestSoFar(values=prog.best_values, fc=prog.best_fc, terms=prog.best_terms, corr=prog.best_corr,
                             signals=prog.best_signals)
            late += self.checks.judge(best, target, rec_values, corr_of_best, cancelled=self.cancelled)
            if self.checks.held_out_asked:
                late.append(self.checks.held_out_check(best, target))  # type: ignore[arg-type]
            for w in filter(None, late):
                prog.warnings.append(w)
                self._emit(Warned(message=w))
        self.summary = self._summary("finished", "budget spent", prog, t0, proposer, (rec_values, rec_loss))
        self._emit(Finished(summary=self.summary))
        return self.summary
