"""What a fit's numbers are judged against once its budget is spent: the nulls beside its score (what each map it
uses predicts alone, on the fitted and the held-out target) and the fresh-noise verdict of its best point.

The search loop calls ``Verdicts.judge`` after its last batch; everything here is testable without a search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from engine.config import FitConfig
from engine.data import nulls
from engine.data.dataset import Dataset
from engine.model.fresh import Verdict, fic_caveat, fresh_verdict, level_caveat
from engine.model.heldout import HeldOut
from engine.model.target import FitTarget


def _clean(d: Mapping[str, float]) -> dict[str, float | None]:
    return {k: (None if v is None or not math.isfinite(v) else round(float(v), 6)) for k, v in d.items()}


def map_baselines(config: FitConfig, dataset: Dataset, train: FitTarget,
                  test: FitTarget | None = None) -> tuple[dict[str, float | None], dict[str, float | None] | None]:
    """{map: r} of each map the fit uses, alone, against the fitted target and (when given) the held-out one.

    The derived ``fcgradient`` is the fitted target's gradient in both (as the fit uses it), never the test FC's.
    """
    used = nulls.used_maps((*config.bounds, *config.fixed))
    raw = nulls.raw_maps(dataset, train.fc, used, config.maps)
    fitted = _clean(nulls.map_alone(raw, train.fc, train.edge_index))
    held = None if test is None else _clean(nulls.map_alone(raw, test.fc, test.edge_index))
    return fitted, held


@dataclass
class Judgement:
    """The verdicts of one fit: nulls, the fresh-noise verdict, and the warnings they call for."""

    map_baselines: dict[str, float | None] = field(default_factory=dict)
    test_map_baselines: dict[str, float | None] | None = None
    fresh: Verdict | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def fresh_dict(self) -> dict[str, Any] | None:
        """The verdict as JSON-ready data (None when none was run)."""
        return None if self.fresh is None else self.fresh.to_dict()


def fresh_held_out(held: HeldOut, verdict: Verdict) -> HeldOut:
    """``held`` with its train and test scores taken from the verdict's fresh runs (means over seeds)."""
    best = verdict.to_dict()
    test = best.get("test") or {}
    return HeldOut(check=held.check, edges=held.edges, train_r=best.get("fc_corr_mean"), test_r=test.get("fc_corr_mean"),
                   train_ks=best.get("fcd_ks_mean"), test_ks=test.get("fcd_ks_mean"),
                   train_baseline=held.train_baseline, test_baseline=held.test_baseline,
                   source=f"fresh noise, mean of {verdict.seeds} seeds")


def judge(config: FitConfig, dataset: Dataset, *, train: FitTarget, test: FitTarget | None,
          best: Mapping[str, float], best_corr: float | None, recommendation: Mapping[str, float] | None,
          test_dataset: Dataset | None = None, fresh: bool = True,
          precomputed: tuple[dict[str, float | None], dict[str, float | None] | None] | None = None) -> Judgement:
    """Nulls (``precomputed`` when computed already) and (with ``fresh`` and ``config.fresh_seeds`` > 0) the fresh-noise
    verdict of a finished fit."""
    out = Judgement()
    try:
        out.map_baselines, out.test_map_baselines = precomputed or map_baselines(config, dataset, train, test)
    except Exception as e:  # noqa: BLE001 - a null that cannot be computed is said, the fit's results stand
        out.warnings.append(f"map-alone nulls could not be computed: {type(e).__name__}: {e}")
    if fresh and config.fresh_seeds > 0:
        points = [dict(best)]
        if recommendation is not None and not np.allclose([recommendation[n] for n in best],
                                                          [best[n] for n in best], rtol=0, atol=1e-12):
            points.append(dict(recommendation))
        try:
            out.fresh = fresh_verdict(config, dataset, points, seeds=config.fresh_seeds, test_dataset=test_dataset)
        except Exception as e:  # noqa: BLE001 - as above
            out.warnings.append(f"fresh-noise verdict failed: {type(e).__name__}: "
                                f"{(str(e).splitlines() or [''])[0]}")
    verdict = out.fresh_dict
    headline = verdict.get("fc_corr_mean") if verdict else best_corr
    out.warnings += list(filter(None, [
        nulls.map_caveat(headline, out.map_baselines, what="fresh-noise mean" if verdict else "best"),
        level_caveat(verdict),
        None if out.fresh is None else fic_caveat(out.fresh.best.fic_infeasible, dataset.n_nodes)]))
    if verdict and verdict.get("test") and out.test_map_baselines:
        out.warnings.append(nulls.map_caveat(verdict["test"].get("fc_corr_mean"), out.test_map_baselines,
                                             what="held-out fresh-noise") or "")
        level = level_caveat(verdict["test"])
        out.warnings.append("" if level is None else f"held-out: {level}")
    out.warnings = [w for w in out.warnings if w]
    return out
