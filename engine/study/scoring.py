"""A study subject's scoring columns: r and the baseline on the scored edges, its held-out check, its verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from engine.config import FitConfig
from engine.runs.layout import STATUS, read_json


def scoring_columns(run: Path, config: FitConfig, best: Mapping[str, Any] | None) -> dict[str, Any]:
    """Columns that replace or join the all-edge numbers: with ``--edges`` other than all, r and the baseline
    as the fit scored them (on those edges); with ``--split``/``--test``, train and test r and KS."""

    summary = (read_json(run / STATUS) or {}).get("summary") or {}
    out: dict[str, Any] = {}
    if config.edges != "all":
        out["edges"] = config.edges
        out["fc_corr"] = None if best is None else best.get("fc_corr")
        out["structural_baseline"] = summary.get("structural_baseline")
    if config.split or config.test_data:
        held = summary.get("held_out") or {}
        out.update(train_fc_corr=held.get("train_r"), test_fc_corr=held.get("test_r"), train_ks=held.get("train_ks"),
                   test_ks=held.get("test_ks"), test_structural_baseline=held.get("test_baseline"))
    out.update(verdict_columns(summary))
    return out


#: The verdict columns of every study table (empty for subjects whose runs predate them).
VERDICT_COLUMNS = ("fresh_fc_corr_mean", "fresh_fc_corr_sd", "fresh_fcd_ks_mean", "fresh_mean_fc", "data_mean_fc",
                   "best_map_alone", "best_map", "joint_candidates", "joint_meeting", "joint_best_r")


def verdict_columns(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A subject's fresh-noise verdict (mean r, its sd, FCD KS, model and data mean FC), its best map-alone null and its
    joint bars (candidates scored, how many met FCD KS and level at once, the best r among them: engine.model.tradeoff)."""
    fresh = summary.get("fresh") or {}
    joint = summary.get("tradeoff") or {}
    nulls = {k: v for k, v in (summary.get("map_baselines") or {}).items() if v is not None}
    best = max(nulls, key=lambda k: nulls[k]) if nulls else None
    return {"fresh_fc_corr_mean": fresh.get("fc_corr_mean"), "fresh_fc_corr_sd": fresh.get("fc_corr_sd"),
            "fresh_fcd_ks_mean": fresh.get("fcd_ks_mean"), "fresh_mean_fc": fresh.get("mean_fc_mean"),
            "data_mean_fc": fresh.get("data_mean_fc"), "best_map_alone": None if best is None else nulls[best],
            "best_map": best, "joint_candidates": joint.get("candidates"), "joint_meeting": joint.get("meeting"),
            "joint_best_r": (joint.get("best_meeting") or {}).get("fc_corr")}
