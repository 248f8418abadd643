"""Warnings about numbers that could mislead a modeller: a transient scored as FC, an FCD term over too few
windows, a fit no better than structure."""

from __future__ import annotations

from engine.config import FitConfig
from engine.model import observe
from engine.model.fcd import windows
from engine.model.regional import map_names
from engine.model.target import fcd_samples

#: A best FC correlation within this of the structure-alone baseline is reported as no better than it.
BASELINE_MARGIN = 0.01
#: Below this many model FCD windows an FCD KS term compares a handful of values with the data's distribution.
MIN_FCD_WINDOWS = 20


def config_caveats(config: FitConfig) -> list[str]:
    """What the settings make the score measure besides the model's steady-state FC."""
    obs = observe.REGISTRY[config.observe]
    out = []
    if config.transient_ms == 0 and config.initial == "random":
        out.append("transient 0: the score includes the decay of the random initial delay history (100–400× the "
                   "steady-state rE), not only the model's resting-state FC; discard ≥ 10 s with --transient")
    elif config.transient_ms < obs.min_transient_ms:
        out.append(f"transient {config.transient_ms / 1000:g} s is shorter than {obs.name}'s settling time "
                   f"(≈{obs.min_transient_ms / 1000:g} s): the FC includes the response to the initial state")

    if "fcgradient" in map_names(tuple(config.bounds) + tuple(config.fixed)):
        out.append("map fcgradient is derived from the target FC this fit scores: its in-sample r is optimistic; "
                   "judge it by a held-out score (scans not in the target)")
    if config.fic and config.coupling == "diffusive" and not config.regional:
        out.append("FIC with diffusive coupling and identical regions has nothing to balance (the network input is 0 "
                   "at a homogeneous state): every region gets the same wIE; use --coupling additive or maps")
    return out


def fcd_caveat(config: FitConfig, tr_s: float | None) -> str | None:
    """A warning when the objective's FCD term rests on fewer than ``MIN_FCD_WINDOWS`` model windows."""
    if tr_s is None or not config.objective_spec.needs_fcd:
        return None
    window, step = fcd_samples(config, tr_s)
    n_samples = int((config.duration_ms - config.transient_ms) / 1000.0 / tr_s)  # the model's, to within one
    n = int(windows(max(0, n_samples), window, step).size)
    if n >= MIN_FCD_WINDOWS:
        return None
    need_s = (config.transient_ms / 1000.0 + (window + (MIN_FCD_WINDOWS - 1) * step + 1) * tr_s)
    return (f"the FCD term compares about {n} model windows ({n * (n - 1) // 2} FCD values) with the data: "
            f"below {MIN_FCD_WINDOWS} windows its KS score is noisy and can rank candidates by chance; "
            f"lengthen --duration to ≥ {need_s:.0f} s")


def baseline_caveat(best_corr: float | None, baseline: float | None) -> str | None:
    """A warning when the best FC correlation is no better than the structure alone (corr of Cmat and target FC)."""
    if best_corr is None or baseline is None or baseline != baseline or best_corr != best_corr:
        return None
    if best_corr > baseline + BASELINE_MARGIN:
        return None
    return (f"best FC correlation {best_corr:.3f} is no better than the structure alone (corr of Cmat with the "
            f"target FC {baseline:.3f}): the model adds nothing the weights do not already explain")
