"""Plain-text lines of a fit's verdicts (the nulls beside its score, the fresh-noise verdict, the held-out check), written
once for every front end: the command line's summary and the app's result panel read the same lines."""

from __future__ import annotations

from typing import Any, Mapping

from engine.model.tradeoff import tradeoff_text


def _f(v: Any, digits: int = 3) -> str:
    return "—" if v is None else f"{float(v):.{digits}f}"


def _pm(d: Mapping[str, Any], key: str) -> str:
    """'0.568 ± 0.010' of ``key``_mean and ``key``_sd, or '—'."""
    m, s = d.get(f"{key}_mean"), d.get(f"{key}_sd")
    return "—" if m is None else f"{m:.3f} ± {0.0 if s is None else s:.3f}"


def scores_text(d: Mapping[str, Any]) -> str:
    """'r 0.568 ± 0.010 · FCD KS 0.76 ± 0.02 · mean FC 0.43 ± 0.01 (data 0.27)' of a fresh-noise score dict."""
    bits = [f"r {_pm(d, 'fc_corr')}"]
    if d.get("fcd_ks_mean") is not None:
        bits.append(f"FCD KS {_pm(d, 'fcd_ks')}")
    if d.get("mean_fc_mean") is not None:
        bits.append(f"mean FC {_pm(d, 'mean_fc')} (data {_f(d.get('data_mean_fc'))})")
    return " · ".join(bits)


def nulls_text(baselines: Mapping[str, Any] | None) -> str | None:
    """'fcgradient 0.684 · strength 0.213' (each map alone), or None without maps."""
    if not baselines:
        return None
    return " · ".join(f"{name} {_f(r)}" for name, r in sorted(baselines.items(), key=lambda x: -(x[1] or -9)))


def held_out_text(held: Mapping[str, Any]) -> list[str]:
    """The held-out check: what was held out, then train / test r (and KS) beside the structure alone."""
    ks = (f"   KS {_f(held.get('train_ks'))} / {_f(held.get('test_ks'))}"
          if held.get("train_ks") is not None or held.get("test_ks") is not None else "")
    source = held.get("source") or "stored simulation"
    return [f"{held.get('check', '')} ({source})",
            f"train / test r {_f(held.get('train_r'))} / {_f(held.get('test_r'))}{ks}   structure alone "
            f"{_f(held.get('train_baseline'))} / {_f(held.get('test_baseline'))}"]


def regime_text(regime: Mapping[str, Any] | None) -> str | None:
    """'100 of 100 regions past their Hopf point (noisy ≈ 64 Hz oscillators) …', or None without one."""
    if not regime:
        return None
    n, osc, saddle, quiet = regime["regions"], regime["oscillating"], regime["saddle"], regime["quiet"]
    if not n:
        return f"FIC holds none of the {regime.get('unheld', 0)} regions at their target: no regime to classify"
    parts = []
    if osc:
        parts.append(f"{osc} of {n} regions past their Hopf point (noisy ≈ {regime['frequency_hz']:.0f} Hz oscillators)")
    if quiet == n:
        parts.append(f"all {n} regions quiet (the slowest decays at {-regime['growth_per_ms']:.3g}/ms)")
    elif quiet:
        parts.append(f"{quiet} quiet" if osc else f"{quiet} of {n} regions quiet")
    if saddle:
        parts.append(f"{saddle} {'saddle' if saddle == 1 else 'saddles'} (unstable without turning)")
    if regime.get("unheld"):
        parts.append(f"{regime['unheld']} not held by FIC (not classified)")
    return ", ".join(parts) + " — each region alone at its FIC rate, its network input held"


def verdict_lines(summary: Any, *, compact: bool = False) -> list[tuple[str, str]]:
    """(label, text) rows of a summary's verdicts: map-alone nulls, the fresh-noise verdict and the held-out check
    (``compact``: the held-out check on one row, for the app's result panel)."""
    rows: list[tuple[str, str]] = []
    nulls = nulls_text(getattr(summary, "map_baselines", None))
    if nulls:
        rows.append(("map alone", f"{nulls}  (r of −|m_i − m_j| with the target, no dynamics)"))
    fresh = getattr(summary, "fresh", None)
    if fresh:
        rows.append(("fresh noise", f"{scores_text(fresh)}  ({fresh.get('seeds')} new seeds; the search's number "
                                    "above is its best of all candidates on one seed)"))
        if fresh.get("fic_infeasible"):
            rows.append(("", f"FIC cannot hold {fresh['fic_infeasible']} region(s) at the best point"))
        regime = regime_text(fresh.get("node_regime"))
        if regime:
            rows.append(("node regime", regime))
        rec = fresh.get("recommendation")
        if rec:
            rows.append(("  recommended", scores_text(rec)))
        test = fresh.get("test")
        if test:
            rows.append(("  held out", scores_text(test)))
    joint = tradeoff_text(getattr(summary, "tradeoff", None))
    if joint:
        rows.append(("joint bars", joint))
    test_nulls = nulls_text(getattr(summary, "test_map_baselines", None))
    if test_nulls:
        rows.append(("  test map alone", test_nulls))
    held = getattr(summary, "held_out", None)
    if held:
        first, second = held_out_text(held)
        if compact:
            rows.append(("held-out", f"{first}: {second}"))
        else:
            rows += [("held-out", first), ("  train / test", second.partition("train / test ")[2])]
    for note in (fresh or {}).get("notes") or ():
        rows.append(("", f"fresh-noise verdict: {note}"))
    return rows
