"""What a search checks around its loop: the held-out data and targets, the nulls when it starts, the fresh-noise
verdict and the held-out check when it ends — one collaborator of ``engine.search.Search``, testable alone.

Each check that fails is reported as a line (a warning), never raised: the fit's results stand without it. JAX-loading
modules are imported lazily (Ray actors import the search before their devices are set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.events import Event, Verifying

#: Nulls: each map's r alone against the fitted target, and against the held-out one (None without one).
Nulls = tuple[dict[str, float | None], dict[str, float | None] | None]


@dataclass
class BestSoFar:
    """What the checks need of the search's best candidate."""

    values: np.ndarray | None
    fc: np.ndarray | None
    terms: Mapping[str, float] | None
    corr: float | None
    signals: Any = None


class FitChecks:
    """The held-out data, the nulls and the verdicts of one fit (``held_out`` and ``judgement`` once it ends)."""

    def __init__(self, config: FitConfig, dataset: Dataset, *, test_dataset: Dataset | None = None,
                 emit: Callable[[Event], None] = lambda e: None) -> None:
        self.config = config
        self.dataset = dataset
        self.test_dataset = test_dataset  # --test DATA (loaded from config.test_data when not given)
        self.test_target: Any = None  # the held-out check's target, built once
        self.prepared: Any = None  # engine.prepare.PreparedFit, when the fit was prepared
        self.held_out: Any = None  # engine.model.heldout.HeldOut after a finished fit with a held-out check
        self.judgement: Any = None  # engine.verdict.Judgement after a finished fit: nulls and the fresh-noise verdict
        self.map_nulls: Nulls | None = None  # computed when the fit starts
        self._targets: tuple[Any, Any] | None = None
        self._emit = emit

    @property
    def held_out_asked(self) -> bool:
        """Whether the settings ask for a held-out check (``--split`` or ``--test``)."""
        return bool(self.config.split or self.config.test_data)

    def load_held_out(self, prepared: Any = None) -> None:
        """The held-out dataset and target: the prepared ones, else loaded and built here, once (raises on bad data)."""
        self.prepared = prepared
        if prepared is not None:
            self.test_dataset, self.test_target = prepared.test_dataset, prepared.test_target
        elif self.held_out_asked:
            from engine.model import heldout  # lazy: JAX

            if self.test_dataset is None:
                self.test_dataset = heldout.load_test_dataset(self.config, self.dataset)
            self.test_target = heldout.test_target(self.config, self.dataset, self.test_dataset)

    def targets(self, target: Any) -> tuple[Any, Any]:
        """The fitted target (``target``, the prepared one, or built) and the held-out one (None without a check)."""
        if self._targets is None:
            from engine.model import heldout  # lazy: JAX
            from engine.model.target import build_target

            if target is None and self.prepared is not None:
                target = self.prepared.target
            train = target if target is not None else build_target(self.config, self.dataset)
            test = self.test_target
            if test is None and self.held_out_asked:
                test = heldout.test_target(self.config, self.dataset, self.test_dataset)
            self._targets = (train, test)
        return self._targets

    def nulls(self, target: Any) -> Nulls | None:
        """Each map's r alone against the fitted and held-out targets (None when they cannot be computed)."""
        from engine import verdict  # lazy: JAX

        try:
            self.map_nulls = verdict.map_baselines(self.config, self.dataset, *self.targets(target))
        except Exception:  # noqa: BLE001 - the end of the fit says why (``judge`` computes them again)
            self.map_nulls = None
        return self.map_nulls

    def judge(self, best: BestSoFar, target: Any, recommendation: np.ndarray | None, best_corr: float | None,
              *, cancelled: bool = False) -> list[str]:
        """Nulls beside the score and the fresh-noise verdict (``self.judgement``); their warnings."""
        from engine import verdict  # lazy: JAX

        cfg = self.config
        try:
            train, test = self.targets(target)
        except Exception as e:  # noqa: BLE001 - the verdicts are said to have failed; the fit's results stand
            return [f"nulls and fresh-noise verdict skipped: {type(e).__name__}: {e}"]
        names = cfg.names
        point = {n: float(v) for n, v in zip(names, np.asarray(best.values))}
        rec = None if recommendation is None else {n: float(v) for n, v in zip(names, recommendation)}
        fresh = cfg.fresh_seeds > 0 and not cancelled
        if fresh:
            also = " and the recommendation" if recommendation is not None else ""
            self._emit(Verifying(message=f"fresh-noise verdict: the best point{also} simulated again with "
                                         f"{cfg.fresh_seeds} new noise seeds", seeds=cfg.fresh_seeds))
        self.judgement = verdict.judge(cfg, self.dataset, train=train, test=test, best=point, best_corr=best_corr,
                                       recommendation=rec, test_dataset=self.test_dataset, fresh=fresh,
                                       precomputed=self.map_nulls)
        return list(self.judgement.warnings)

    def held_out_check(self, best: BestSoFar, target: Any) -> str | None:
        """Score the best candidate on the held-out data (``self.held_out``); its warning, if any."""
        from engine.model import heldout  # lazy: JAX

        cfg = self.config
        try:
            test = self.test_dataset if self.test_dataset is not None else heldout.load_test_dataset(cfg, self.dataset)
            train_target = self.targets(target)[0]
            self.held_out = heldout.score_held_out(
                cfg, self.dataset, best_fc=np.asarray(best.fc), train_r=best.corr,
                train_ks=(best.terms or {}).get("fcd_ks"), train_target=train_target, best_signals=best.signals,
                test=test, held_target=self.test_target)
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

    def summary_fields(self) -> dict[str, Any]:
        """The Summary's fields these checks fill (held-out, map baselines, fresh)."""
        j = self.judgement
        return {"held_out": None if self.held_out is None else self.held_out.to_dict(),
                "map_baselines": None if j is None else j.map_baselines,
                "test_map_baselines": None if j is None else j.test_map_baselines,
                "fresh": None if j is None else j.fresh_dict}


#: A best value this close to a bound (as a fraction of the range) triggers a warning.
BOUND_MARGIN = 0.02


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
