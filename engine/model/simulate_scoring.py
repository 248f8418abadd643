"""What ``simulate`` adds for the scoring options: scores over R noise realisations and the held-out check.

The signals ``simulate`` writes (rE, BOLD, FCD) are realisation 0's (the seed's own noise); with
``realizations`` > 1 the loss, terms, r and the written FC are those of the mean FC over the R realisations (the
objective's own batch call, FCD values pooled), as a fit scores the candidate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.model import heldout


def realisation_scores(obj: Any, x: np.ndarray, loss: np.ndarray, parts: np.ndarray, corr: np.ndarray,
                       fc: np.ndarray, flag: str) -> tuple[Any, ...]:
    """(loss, parts, corr, fc, flag, held_out) of one candidate ``x`` (1, P) under ``obj``'s config."""
    config = obj.config
    signals = None
    if config.realizations > 1:
        res = obj(x)
        loss = np.asarray(res.losses)
        parts = np.stack([res.terms[n] for n, _ in obj.spec.terms])[:, :1]
        corr = np.asarray(res.corr)
        fc = np.asarray(res.best_fc, np.float64)
        flag = res.flags[0]
        signals = res.best_signals
    held = None
    if config.split or config.test_data:

        if signals is None and obj.sampling is not None:
            signals = obj.samples(x)[:1]  # (1, S, N): realisation 0
        test = heldout.load_test_dataset(config, obj.dataset)
        terms = {n: float(parts[i, 0]) for i, (n, _) in enumerate(obj.spec.terms)}
        held = heldout.score_held_out(config, obj.dataset, best_fc=fc, train_r=float(corr[0]),
                                      train_ks=terms.get("fcd_ks"), train_target=obj.target, best_signals=signals,
                                      test=test).to_dict()
    return loss, parts, corr, fc, flag, held
